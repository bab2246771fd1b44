"""`xinyong audit …`: checks of the audit log."""

from __future__ import annotations

import typer
from rich.console import Console

from xinyong.core import audit, db

app = typer.Typer(help="审计日志", no_args_is_help=True)
console = Console()


@app.command("verify")
def verify() -> None:
    """校验审计日志的哈希链：报告第一条被修改、删除或插入的记录。"""
    try:
        db.ensure_ready()
    except Exception as exc:  # DatabaseNotReady carries a Chinese message
        console.print(f"[red]错误：[/]{getattr(exc, 'message', exc)}")
        raise typer.Exit(1) from None
    with db.transaction() as session:
        result = audit.verify(session)
    if result.ok:
        console.print(f"审计日志完整：共 {result.checked} 条记录，哈希链校验通过。")
        return
    console.print(f"[bold red]审计日志校验失败：[/]{result.problem}（已检查 {result.checked} 条）")
    raise typer.Exit(4)
