"""What every command-line command shares: the consoles, failing with a Chinese message, and
refusing to run on a database that is missing or not upgraded, or with broken policy packs."""

from __future__ import annotations

import getpass
import sys

import typer
from rich.console import Console

from xinyong.core import db
from xinyong.core.errors import XinyongError

# Piped output (scripts, logs) gets wide lines so that no cell is cut or folded.
out = Console(width=None if sys.stdout.isatty() else 240)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 240)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise."""
    err.print(f"[bold red]错误：[/]{message}")
    return typer.Exit(code)


def cli_actor(command: str | None = None) -> str:
    """Who an audit entry names for a command run on the server: the operator's login name."""
    try:
        who = f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        who = "cli"
    return f"{who} {command}" if command else who


def require_ready() -> None:
    """Exit (status 1) with the platform's own message unless the database exists and is upgraded
    and the policy packs load: a broken pack stops every command, not only those that apply a rule."""
    from xinyong.policy.service import get_policy_book  # the packs are the platform's, as its database

    try:
        db.ensure_ready()
        get_policy_book()
    except XinyongError as exc:
        raise fail(exc.message) from None
