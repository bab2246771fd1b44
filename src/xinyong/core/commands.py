"""`xinyong audit …`: checks of the audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from xinyong.core import audit, db
from xinyong.core.errors import XinyongError
from xinyong.core.terminal import cli_actor, fail, out, require_ready

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
    if result.head_problem is not None:
        out.print("平台在链头恢复之前拒绝一切需要记入审计日志的操作（登录、报送、更正、查阅非公开信息等）。"
                  "查明原因后，用 xinyong audit restore-head --reason “原因” 把链头恢复到最新的记录"
                  "（见运维手册“审计日志”一节）。")
    raise typer.Exit(4)


ANCHOR_WARNING = ("注意：与链头一同被删除的最新记录，从数据库本身无法发现。请用以前在数据库外记下的最新链头核对："
                  "xinyong audit verify --anchor 序号:哈希")


@app.command("restore-head")
def restore_head(
    reason: Annotated[str, typer.Option(help="为什么恢复链头（工单号、经过），记入审计日志")] = "",
    anchor: Annotated[str | None, typer.Option(
        help="在数据库外记下的链头（序号:哈希）：先核对审计日志仍含这条记录")] = None,
    accept_break: Annotated[bool, typer.Option(
        "--accept-break", help="哈希链本身已断开（或最新的记录被删除）时仍恢复链头：断点留在审计日志中，"
                               "恢复记录写明它")] = False,
) -> None:
    """链头（audit_head）缺失或与最新的记录不符时，校验哈希链，把链头恢复到最新的记录，并把这次恢复记入审计日志。"""
    recorded = _anchor(anchor)
    require_ready()
    try:
        with db.transaction() as session:
            result = audit.restore_head(session, actor=cli_actor("audit restore-head"), reason=reason,
                                        anchor=recorded, accept_break=accept_break)
    except XinyongError as exc:
        raise fail(exc.message, 2) from None
    if result.problem is None:
        out.print(f"审计日志的链头与最新的记录一致（{result.head or '审计日志为空'}），无需恢复。", highlight=False)
        if result.breach is not None:
            out.print(f"[bold red]但审计日志校验失败：[/]{result.breach.problem}（详见 xinyong audit verify）")
            raise typer.Exit(4)
        return
    out.print(f"链头的问题：{result.problem.text}")
    if not result.restored:
        assert result.breach is not None
        out.print(f"[bold red]未恢复链头：[/]{result.breach.problem}。请按安全事件处理：保持数据库现状，"
                  "在别处恢复最近的可靠备份并比对。查明后若决定在这个数据库上继续使用，加 --accept-break 再运行："
                  "断点仍留在审计日志中，恢复记录会写明它。")
        raise typer.Exit(4)
    out.print(f"已校验 {result.checked} 条记录，链头已恢复到最新的记录；这次恢复已记入审计日志第 {result.head.seq} 条"
              f"（{audit.RESTORE_HEAD_ACTION}）。", highlight=False)
    if result.breach is not None:
        out.print(f"[yellow]已按 --accept-break 接受：{result.breach.problem}（已写入这次恢复的审计记录）[/]")
    if recorded is None:
        out.print(f"[yellow]{ANCHOR_WARNING}[/]")
    else:
        out.print(f"在数据库外记下的第 {recorded.seq} 条记录仍在审计日志中，哈希相同。")
    out.print(f"链头（请记在数据库之外，以后用 --anchor 核对）：{result.head}", highlight=False)
