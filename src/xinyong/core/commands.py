"""`xinyong audit …`: checks of the audit log."""

from __future__ import annotations

import typer

from xinyong.core import audit, db
from xinyong.core.terminal import out, require_ready

app = typer.Typer(help="审计日志", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """校验审计日志的哈希链：报告第一条被修改、删除或插入的记录。"""
    require_ready()
    with db.transaction() as session:
        result = audit.verify(session)
    if result.ok:
        out.print(f"审计日志完整：共 {result.checked} 条记录，哈希链校验通过。")
        return
    out.print(f"[bold red]审计日志校验失败：[/]{result.problem}（已检查 {result.checked} 条）")
    raise typer.Exit(4)
