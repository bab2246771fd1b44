"""`xinyong user …`: create the first administrator, list users and reset a password from the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from xinyong.accounts import service
from xinyong.accounts.access import ROLE_LABELS, Role
from xinyong.core import clock, db
from xinyong.core.errors import XinyongError
from xinyong.core.terminal import cli_actor, err, fail, out, require_ready

app = typer.Typer(help="用户账号", no_args_is_help=True)
department_app = typer.Typer(help="部门（信息提供单位）", no_args_is_help=True)
COMMANDS = {"user": app, "department": department_app}
def _actor() -> str:
    return cli_actor()


# The roles an operator gives an account on the server; the others are told how they come about.
CLI_ROLES = (Role.ADMIN, Role.OFFICER, Role.APPROVER, Role.AUDITOR)
NOT_ON_THE_COMMAND_LINE = {
    Role.SUBJECT: "信用主体账号须关联一个信用主体，不能在命令行创建：请信用办管理员登录网页，"
                  "在“用户管理”（/admin/users）中新建用户，角色选“信用主体”，并填写该主体的统一社会信用代码（或组织机构代码、工商注册号）",
    Role.PUBLIC: "社会公众不需要账号：公示信息不登录即可查询",
}
ROLE_CHOICES = "|".join(r.value for r in CLI_ROLES)


def _role(value: str) -> Role:
    """The role of ``--role``, or exit 2 with what to do instead."""
    role = next((r for r in Role if r.value == value.strip().lower()), None)
    if role is not None and role in CLI_ROLES:
        return role
    if role is not None:
        raise fail(NOT_ON_THE_COMMAND_LINE[role], 2)
    choices = "、".join(f"{r.value}（{r.label}）" for r in CLI_ROLES)
    raise fail(f"未知的角色 {value}：应为 {choices}", 2)


@app.command("create")
def create(
    username: Annotated[str, typer.Option("--username", help="用户名（小写字母、数字或 _ . -）")],
    role: Annotated[str, typer.Option(
        "--role", metavar=f"<{ROLE_CHOICES}>",
        help="角色：admin 信用办管理员，officer 部门报送人员（须 --department），approver 审批经办人，auditor 审计人员"
    )],
    display_name: Annotated[str, typer.Option("--display-name", help="姓名")],
    department: Annotated[str | None, typer.Option("--department", help="所属部门的统一社会信用代码")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取密码（一行）")] = False,
) -> None:
    """创建用户（如第一个信用办管理员）。密码从标准输入读取或交互输入两次，不接受命令行参数。

    信用主体账号由信用办管理员在网页“用户管理”中创建；社会公众不需要账号。"""
    chosen = _role(role)
    require_ready()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    try:
        with db.transaction() as session:
            department_id = None
            if department:
                found = service.find_department(session, department.strip().upper())
                if found is None:
                    raise XinyongError(f"没有统一社会信用代码为 {department} 的部门，请先登记部门")
                department_id = found.id
            user = service.create_user(
                session, username=username, password=password, role=chosen, display_name=display_name,
                department_id=department_id, actor=_actor(),
            )
            out.print(f"已创建用户 {user.username}（{ROLE_LABELS[chosen]}）")
    except XinyongError as exc:
        raise fail(exc.message) from None


@app.command("password")
def password(
    username: Annotated[str, typer.Argument(help="用户名")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读取新密码（一行）")] = False,
) -> None:
    """为忘记密码的用户设置新密码（该用户的所有登录随即退出）。"""
    require_ready()
    if password_stdin:
        new = again = sys.stdin.readline().rstrip("\r\n")
    else:
        new = typer.prompt("新密码", hide_input=True)
        again = typer.prompt("再次输入新密码", hide_input=True)
    try:
        with db.transaction() as session:
            user = service.find_user(session, username)
            if user is None:
                raise XinyongError(f"没有用户名为 {username} 的用户")
            service.reset_password(session, user.id, new, again, actor=_actor())
            out.print(f"已重置用户 {user.username} 的密码，其所有登录已退出")
    except XinyongError as exc:
        raise fail(exc.message) from None


@app.command("list")
def list_users() -> None:
    """列出所有用户。"""
    require_ready()
    with db.transaction() as session:
        departments = {d.id: d for d in service.list_departments(session)}
        table = Table("用户名", "姓名", "角色", "所属部门", "状态", "最近登录")
        for user in service.list_users(session):
            dept = departments.get(user.department_id) if user.department_id else None
            table.add_row(
                user.username, user.display_name, ROLE_LABELS.get(Role(user.role), user.role),
                f"{dept.name}（{dept.uscc}）" if dept else "",
                "已停用" if user.disabled else "正常",
                user.last_login_at.strftime("%Y-%m-%d %H:%M") if user.last_login_at else "",
            )
    out.print(table)


@department_app.command("add")
def add_department(
    uscc: Annotated[str, typer.Argument(help="部门的统一社会信用代码")],
    name: Annotated[str, typer.Argument(help="部门名称（全称）")],
) -> None:
    """登记部门（信息提供单位），如报送 2016 年格式文件（--department）之前。与“部门管理”页面相同，记入审计日志。"""
    require_ready()
    try:
        with db.transaction() as session:
            department = service.register_department_by_office(
                session, uscc=uscc, name=name, actor=cli_actor("department add"))
            others = service.namesakes(session, department)
            out.print(f"已登记部门 {department.name}（{department.uscc}）")
            if others:
                err.print(f"注意：{service.namesakes_said(others)}", style="yellow", markup=False, highlight=False)
    except XinyongError as exc:
        raise fail(exc.message) from None


@department_app.command("list")
def list_departments() -> None:
    """列出已登记的部门。"""
    require_ready()
    with db.transaction() as session:
        table = Table("统一社会信用代码", "名称", "行政区划", "登记时间", "来源")
        for d in service.list_departments(session):
            source = (f"报送文件自动登记（批次 {d.registered_by_batch_id}）" if d.auto_registered
                      else "信用办登记")
            registered = d.registered_at.astimezone(clock.CHINA_TZ).strftime("%Y-%m-%d %H:%M")
            table.add_row(d.uscc, d.name, d.area_code, registered, source)
    out.print(table)
