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
