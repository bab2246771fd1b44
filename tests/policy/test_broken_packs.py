"""A broken policy pack stops the platform: every command but the schema's own, `xinyong serve`,
and a running server's readiness check, each naming the pack's problem."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from filehelpers import FIXTURES, ingest
from xinyong.cli import app

# Every command that works on the platform's data, with arguments that work on good packs.
COMMANDS = [
    ["policy", "show"], ["records", "reclassify"], ["records", "redeadline"],
    ["subject", "show", "911301026CR765LW53"], ["audit", "verify"], ["calendar", "show", "2026"],
    ["user", "list"], ["quality", "codes"], ["demo", "--subjects", "5"],
]


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_broken_pack_stops_every_command_with_exit_1(database, command, request):
    """Found by probing: `records reclassify` and `redeadline` exited 2 (a user's mistake), and
    `subject show`, `audit verify`, `calendar show` and `user list` ran as if nothing were wrong,
    although the docs say a broken pack stops every command with exit 1."""
    ingest(FIXTURES / "penalties.csv")
    assert run(*command).exit_code == 0  # the command works on good packs
    rule = request.getfixturevalue("broken_packs")
    result = run(*command)
    assert result.exit_code == 1, result.output
    said = " ".join(result.stderr.split())
    assert said.startswith("错误：策略包有误") and rule in said
    assert result.stdout == ""


def test_the_schema_commands_still_work_on_a_broken_pack(database, broken_packs):
    """Upgrading the database needs no rules: an operator can migrate before fixing the pack."""
    for command in (["db", "upgrade"], ["db", "current"]):
        result = run(*command)
        assert result.exit_code == 0, (command, result.output)


def test_serve_refuses_to_start_on_a_broken_pack(database, broken_packs):
    """Found by probing: `xinyong serve` started, /readyz said ready, and /about answered 400."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "xinyong.cli", "serve", "--port", str(port)], env=dict(os.environ, COLUMNS="250"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = server.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        server.kill()
        server.communicate()
        pytest.fail("xinyong serve started on a broken policy pack")
    assert server.returncode == 1, stderr
    assert "策略包有误" in stderr and broken_packs in " ".join(stderr.split())
    assert "已启动" not in stdout


def test_a_running_server_is_not_ready_and_its_pages_say_why(client, broken_packs):
    """The application run by another process manager than `xinyong serve` (which refuses to
    start) must not be taken as ready: /readyz answers 503 with the reason, and pages that need the
    rules answer 503 (服务暂不可用), not 400 (请求有误, as if the visitor had erred)."""
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "not_ready"
    assert ready.json()["reason"].startswith("策略包有误") and broken_packs in ready.json()["reason"]
    about = client.get("/about")
    assert about.status_code == 503 and "服务暂不可用" in about.text and broken_packs in about.text
