"""`xinyong audit …`: checks of the audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from xinyong.core import audit, db
from xinyong.core.terminal import fail, out, require_ready

app = typer.Typer(help="审计日志", no_args_is_help=True)


def _anchor(value: str | None) -> audit.Anchor | None:
    if value is None:
        return None
    try:
        return audit.Anchor.parse(value)
    except ValueError:
        raise fail(f"--anchor “{value}” 不是“序号:哈希”：应为以前校验时打印的链头，"
                   "如 1234:9f86d081…（哈希为 64 位十六进制）", 2) from None


@app.command("verify")
def verify(
    anchor: Annotated[str | None, typer.Option(
        help="在数据库外记下的链头（序号:哈希）：核对审计日志仍含这条记录且哈希未变，"
             "即最新的记录未被连同链头删除")] = None,
) -> None:
    """校验审计日志的哈希链：报告第一条被修改、删除或插入的记录，并打印链头供在数据库外记录。"""
    recorded = _anchor(anchor)
    require_ready()
    with db.transaction() as session:
        result = audit.verify(session, recorded)
    if result.ok:
        out.print(f"审计日志完整：共 {result.checked} 条记录，哈希链校验通过。")
        if recorded is not None:
            out.print(f"在数据库外记下的第 {recorded.seq} 条记录仍在审计日志中，哈希相同。")
        if result.head is not None:
            out.print(f"链头（请记在数据库之外，以后用 --anchor 核对）：{result.head}", highlight=False)
        return
    out.print(f"[bold red]审计日志校验失败：[/]{result.problem}（已检查 {result.checked} 条）")
    raise typer.Exit(4)
