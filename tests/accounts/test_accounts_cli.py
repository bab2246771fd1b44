"""`xinyong user create`, `xinyong user list` and `xinyong user password`."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from webhelpers import PASSWORD, make_department
from xinyong.accounts import service
from xinyong.accounts.models import User
from xinyong.cli import app
from xinyong.core import db

runner = CliRunner()


def test_create_the_first_administrator_with_a_prompted_password(database):
    result = runner.invoke(app, ["user", "create", "--username", "admin", "--role", "admin",
                                 "--display-name", "信用办管理员甲"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with db.transaction() as s:
        user = service.authenticate_password(s, "admin", PASSWORD)
        assert user is not None and user.role == "admin"
    listing = runner.invoke(app, ["user", "list"])
    assert listing.exit_code == 0 and "admin" in listing.output and "信用办管理员" in listing.output


def test_create_an_officer_with_the_password_on_stdin(database):
    with db.transaction() as s:
        uscc = make_department(s, name="某市交通运输局").uscc
    result = runner.invoke(app, ["user", "create", "--username", "zhao", "--role", "officer",
                                 "--display-name", "赵六", "--department", uscc, "--password-stdin"],
                           input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    with db.transaction() as s:
        assert s.scalar(select(User.department_id).where(User.username == "zhao")) is not None


def test_refuses_a_short_password_and_mismatched_prompts(database):
    short = runner.invoke(app, ["user", "create", "--username", "admin", "--role", "admin",
                                "--display-name", "甲", "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "至少需要 10 个字符" in short.output
    mismatch = runner.invoke(app, ["user", "create", "--username", "admin", "--role", "admin",
                                   "--display-name", "甲"], input=f"{PASSWORD}\nother-password-1\n")
    assert mismatch.exit_code != 0
    with db.transaction() as s:
        assert s.scalars(select(User)).all() == []


def test_reset_a_forgotten_password_from_the_command_line(database):
    runner.invoke(app, ["user", "create", "--username", "admin", "--role", "admin", "--display-name", "甲",
                        "--password-stdin"], input=f"{PASSWORD}\n")
    new = "a-new-long-password"
    result = runner.invoke(app, ["user", "password", "admin"], input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.output
    assert "已重置用户 admin 的密码" in result.output and new not in result.output
    with db.transaction() as s:
        assert service.authenticate_password(s, "admin", PASSWORD) is None
        assert service.authenticate_password(s, "admin", new) is not None
    mismatch = runner.invoke(app, ["user", "password", "admin"], input=f"{new}x\n{new}y\n")
    assert mismatch.exit_code == 1 and "不一致" in mismatch.output
    unknown = runner.invoke(app, ["user", "password", "nobody", "--password-stdin"], input=f"{new}\n")
    assert unknown.exit_code == 1 and "没有用户名为 nobody 的用户" in unknown.output


def test_user_create_offers_the_roles_an_operator_can_create_and_says_how_the_others_come_about(database):
    """`--role` offered public|subject|…: `subject` always failed (nothing links the account to a
    subject on the command line) and `public` made a 社会公众 account no document mentions. The
    command offers the four staff roles; the other two are refused, exit 2, saying what to do."""
    help_text = " ".join(runner.invoke(app, ["user", "create", "--help"], env={"COLUMNS": "250"}).output.split())
    assert "<admin|officer|approver|auditor>" in help_text
    assert "public" not in help_text and "subject" not in help_text
    said = {}
    for role in ("subject", "public", "boss"):
        result = runner.invoke(app, ["user", "create", "--username", f"u{role}", "--role", role,
                                     "--display-name", "张三", "--password-stdin"], input=f"{PASSWORD}\n")
        assert result.exit_code == 2, result.output
        said[role] = " ".join(result.output.split())
    assert "不能在命令行创建" in said["subject"] and "用户管理" in said["subject"]
    assert "社会公众不需要账号" in said["public"]
    assert "未知的角色 boss" in said["boss"] and "auditor（审计人员）" in said["boss"]
    with db.transaction() as s:
        assert s.scalars(select(User)).all() == []
    created = runner.invoke(app, ["user", "create", "--username", "shenji", "--role", "auditor",
                                  "--display-name", "审计员甲", "--password-stdin"], input=f"{PASSWORD}\n")
    assert created.exit_code == 0 and "已创建用户 shenji（审计人员）" in created.output
