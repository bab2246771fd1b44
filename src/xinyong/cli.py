"""The `xinyong` command: a thin shell over the services."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

import xinyong.core.registry  # noqa: F401 - every table mapped, whichever a command's models point at
from xinyong.core import clock, db, ids
from xinyong.core.errors import FileUnreadable, PlatformFault, XinyongError
from xinyong.core.terminal import cli_actor, err, fail, out, require_ready
from xinyong.policy.service import PolicyInvalid

if TYPE_CHECKING:
    from xinyong.subjects.schemas import MergeResult

app = typer.Typer(help="信用 Xinyong：公共信用信息共享平台", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="数据库：迁移与状态", no_args_is_help=True)
policy_app = typer.Typer(help="政策规则包", no_args_is_help=True)
subject_app = typer.Typer(help="信用主体", no_args_is_help=True)
calendar_app = typer.Typer(help="工作日历（节假日与调休安排）", no_args_is_help=True)
records_app = typer.Typer(help="信用记录", no_args_is_help=True)
quality_app = typer.Typer(help="归集质量", no_args_is_help=True)
SHOWN_CHANGES = 200  # rows a re-deciding command lists; the rest are counted
app.add_typer(db_app, name="db")
app.add_typer(policy_app, name="policy")
app.add_typer(subject_app, name="subject")
app.add_typer(calendar_app, name="calendar")
app.add_typer(records_app, name="records")
app.add_typer(quality_app, name="quality")

@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """应用数据库迁移（建表或升级到当前版本）。"""
    # what a migration reports for an administrator (records merged, subjects to merge): alembic
    # gives its loggers a NullHandler, so without this nobody would see it
    migration_log = logging.getLogger("alembic.runtime.migration")
    handler = _ShowWarnings(logging.WARNING)
    migration_log.addHandler(handler)
    try:
        db.upgrade(revision=revision)
    finally:
        migration_log.removeHandler(handler)
    out.print(f"数据库已升级到 {db.current_revision(db.get_engine())}")


class _ShowWarnings(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"迁移提示：{record.getMessage()}", style="yellow", markup=False, highlight=False)


@db_app.command("current")
def db_current() -> None:
    """显示数据库当前的迁移版本（落后于本程序时说明如何升级）。"""
    try:
        revision, head = db.schema_revision()
    except XinyongError as exc:
        raise fail(exc.message) from None
    out.print(revision)
    if revision != head:  # the revision is what the operator asked for: said, with what to do
        err.print(db.behind_message(revision, head), markup=False, highlight=False)


@app.command()
def ingest(
    kind: Annotated[str, typer.Argument(help="penalties（行政处罚）或 licences（行政许可）")],
    file: Annotated[Path, typer.Argument(help="CSV、Excel（XLSX、XLS）、JSON 或 JSON Lines 文件")],
    report: Annotated[Path | None, typer.Option(help="把质量报告写入此 JSON 文件")] = None,
    department: Annotated[
        str | None, typer.Option(help="提交单位的统一社会信用代码（2016 年格式文件需要）")
    ] = None,
) -> None:
    """归集一个双公示文件：逐行校验，整批入库，输出质量报告。"""
    from xinyong.ingest.service import KINDS, audit_submission, ingest_file, write_report

    if kind not in KINDS:
        raise fail(f"未知的数据类型 {kind}：应为 penalties（行政处罚）或 licences（行政许可）", 2)
    require_ready()
    progress = Progress(
        TextColumn("[bold]归集[/] {task.description}"), BarColumn(), TaskProgressColumn(),
        TimeRemainingColumn(), console=err, transient=True, disable=not err.is_terminal,
    )
    try:
        with progress, db.transaction() as session:
            task = progress.add_task(file.name, total=None)

            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=max(total, done))  # a size may be an estimate

            result = ingest_file(session, file, kind, department_uscc=department, progress=tick)
            audit_submission(session, result, actor=cli_actor("ingest"), ip=None)
    except PolicyInvalid as exc:  # the platform is not ready: no fault of the file
        raise fail(exc.message, 1) from None
    except XinyongError as exc:  # the file is unreadable, or the sender unknown: nothing stored
        if report:
            report.write_text(json.dumps({"kind": kind, "file": file.name, "error": exc.message},
                                         ensure_ascii=False, indent=2), encoding="utf-8")
        raise fail(f"{file}：{exc.message}" if isinstance(exc, FileUnreadable) else exc.message, 2) from None
    if report:
        write_report(result, report)
    summary = Table(title=f"归集报告：{result.file}（批次 {result.batch_id}）", show_header=False)
    for label, value in (
        ("文件格式", f"{result.format} {result.encoding or ''} {result.layout}"),
        ("数据行", result.rows_total), ("新增", result.accepted), ("更正", result.corrected),
        ("未变化", result.unchanged), ("拒收", result.rejected), ("警告", result.warnings_count),
        ("新登记部门", "、".join(f"{d.name}（{d.uscc}）" for d in result.departments_registered) or "无"),
    ):
        summary.add_row(label, str(value))
    out.print(summary)
    if result.errors:
        errors = Table(title="拒收的行", show_lines=False)
        for col in ("行", "列", "代码", "说明"):
            errors.add_column(col)
        for issue in result.errors[:50]:
            errors.add_row(issue.place, issue.field or "", issue.code, issue.message)
        out.print(errors)
        if result.errors_count > 50:
            out.print(f"……另有 {result.errors_count - 50} 条错误，见 --report 报告文件")
    raise typer.Exit(result.exit_code)


@policy_app.command("show")
def policy_show(
    date: Annotated[str | None, typer.Option(help="查看某日生效的规则（YYYY-MM-DD），默认今天")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="管辖区域代码，默认平台配置")] = None,
) -> None:
    """列出某日生效的政策规则及其依据。"""
    from xinyong.core.config import get_settings
    from xinyong.policy.cli_render import render_rules_blocks
    from xinyong.policy.service import get_policy_book

    require_ready()
    on = _day_option(date, "") or clock.today()
    where = (jurisdiction or get_settings().jurisdiction).strip().upper()
    if where == "CN":
        place = "全国"
    elif not re.fullmatch(r"\d{6}", where) or (area := ids.area_name(where)) is None:
        raise fail(f"管辖区域代码“{where}”不是 CN（全国）或 GB/T 2260 行政区划代码（6 位数字，如 410481）", 2)
    else:
        place = f"{where}（{area}）"
    book = get_policy_book()
    rules = book.rules_in_force(on, where)
    out.print(f"{on:%Y-%m-%d} 在 {place} 生效的规则：{len(rules)} 条")
    for block in render_rules_blocks(rules):
        out.print(block, soft_wrap=True)
    if others := book.other_jurisdictions(on, where):
        areas = "、".join(f"{code}（{ids.area_name(code) or '未知地区'}）" for code in others)
        out.print(f"另有地区规则，适用于该地区机关作出的决定（用 --jurisdiction 查看）：{areas}", soft_wrap=True)


@subject_app.command("show")
def subject_show(
    code: Annotated[str, typer.Argument(
        help="统一社会信用代码、组织机构代码、工商注册号、公民身份号码或平台编号（id:15）")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """显示一个信用主体：名称、代码、法定代表人，以及每条记录的各版本和公示状态。"""
    from xinyong.records.service import records_of_subject
    from xinyong.subjects.service import describe, find_by_reference

    require_ready()
    today = clock.today()
    try:
        with db.transaction() as session:
            subject = find_by_reference(session, code)
            info = describe(session, subject)
            records = records_of_subject(session, subject.id, today)
    except XinyongError as exc:
        raise fail(exc.message, 1) from None
    if as_json:
        payload = {
            "as_of": today.isoformat(),
            "subject": info.model_dump(mode="json"),
            "records": [r.model_dump(mode="json") for r in records],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    head = Table(show_header=False, title=f"{info.name}（{info.kind_label}）")
    for label, value in (
        ("平台编号", f"{info.id}（在命令中可写作 id:{info.id}）"),
        ("统一社会信用代码", info.uscc), ("组织机构代码", info.org_code), ("工商注册号", info.reg_no),
        ("证件", f"{info.person_id_type} {info.person_id_masked}" if info.person_id_masked else None),
        ("曾用名", "、".join(info.former_names) or None),
        ("法定代表人", "、".join(r.name for r in info.legal_representatives) or None),
    ):
        if value:
            head.add_row(label, value)
    out.print(head)
    table = Table(title=f"信用记录（截至 {today:%Y-%m-%d}）")
    for col in ("类别", "决定文书号", "决定日期", "版本", "状态", "失信程度", "公示截止", "按时报送", "来源"):
        table.add_column(col)
    for record in records:
        for v in reversed(record.versions):
            table.add_row(
                record.kind_label, record.decision_no, f"{v.decision_date}", str(v.version),
                v.status_label, v.penalty_class or "", str(v.publication_end or ""),
                ("是" if v.on_time else "否") + ("（暂定）" if v.deadline_provisional else ""),
                f"{v.provenance.department} 批次{v.provenance.batch_id} {v.provenance.where}",
            )
    out.print(table if records else "暂无信用记录")


@subject_app.command("merge")
def subject_merge(
    keep: Annotated[str, typer.Argument(
        help="保留的主体：统一社会信用代码、组织机构代码、工商注册号或平台编号（id:15）")],
    other: Annotated[str, typer.Argument(help="并入后删除的主体，写法同上")],
    reason: Annotated[str | None, typer.Option(help="合并的原因（与 --apply 一起必填，记入审计日志）")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="执行合并（不加此项只显示将如何合并，不作改动）")] = False,
) -> None:
    """合并同一企业或个体工商户被分成的两个主体（如一个只有组织机构代码或工商注册号，一个有统一社会信用代码）。

    保留的主体取得另一主体的代码、名称历史、法定代表人、信用记录和主体账号，另一主体随后删除。
    同一决定在两个主体下各有一条记录的，合并为一条记录，各版本按接收时间排列。不加 --apply 时只预览。
    """
    from xinyong.subjects.service import find_by_reference, merge_subjects

    if apply and not (reason or "").strip():
        raise fail('执行合并（--apply）须用 --reason 说明原因，例如 --reason "同一企业的旧代码与统一社会信用代码"', 2)
    require_ready()
    try:
        with db.transaction() as session:
            result = merge_subjects(
                session, find_by_reference(session, keep).id, find_by_reference(session, other).id,
                reason=reason, actor=cli_actor("subject merge"), apply=apply)
            if not apply:
                session.rollback()
    except XinyongError as exc:
        raise fail(exc.message, 1) from None
    _print_merge(result)


_CODE_LABELS = {"uscc": "统一社会信用代码", "org_code": "组织机构代码", "reg_no": "工商注册号", "area_code": "区划代码"}


def _print_merge(result: MergeResult) -> None:
    """What a merge of two subjects does (a preview) or did."""
    from rich.markup import escape

    def shown(value: object) -> str:
        return escape(str(value)) if value not in (None, "") else "—"

    k, o = result.keep, result.other
    table = Table(title=("已合并" if result.applied else "合并预览（未作改动）") + "：信用主体")
    for col in ("", f"保留的主体（编号 {k.id}）", f"并入的主体（编号 {o.id}）", "合并后"):
        table.add_column(col)
    for label, field in (("名称", "name"), ("类型", "kind_label"), *((v, f) for f, v in _CODE_LABELS.items())):
        table.add_row(label, shown(getattr(k, field)), shown(getattr(o, field)), shown(getattr(result, field)))
    table.add_row("信用记录", f"{k.records} 条", f"{o.records} 条", f"{result.records_after} 条")
    table.add_row("名称历史", f"{k.names} 个", f"{o.names} 个", f"{k.names + result.names_moved} 个")
    table.add_row("法定代表人", f"{k.legal_representatives} 人", f"{o.legal_representatives} 人",
                  f"{k.legal_representatives + result.legal_representatives_moved} 人")
    out.print(table)
    will = "" if result.applied else "将"
    names = result.names_moved + result.names_joined
    reps = result.legal_representatives_moved + result.legal_representatives_joined
    out.print(f"{will}移入保留的主体：信用记录 {result.records_moved} 条（版本 {result.versions_moved} 个），"
              f"名称 {names} 个（其中 {result.names_joined} 个保留的主体已有，合为一条），"
              f"法定代表人 {reps} 人（其中 {result.legal_representatives_joined} 人保留的主体已有，合为一条）")
    if result.codes_gained:
        gained = "，".join(f"{_CODE_LABELS[f]} {v}" for f, v in result.codes_gained.items())
        out.print(f"保留的主体{will}取得：{gained}")
    if result.users_moved:
        out.print(f"主体账号 {'、'.join(escape(u) for u in result.users_moved)} {will}改为保留的主体的账号")
    if result.combined:
        combined = Table(title="同一决定在两个主体下各有一条记录：合为一条记录，两者的版本按接收时间排列，"
                               "最后接收的为当前版本")
        for col in ("类别", "决定文书号", "决定机关代码", "保留的记录", "并入的记录", "合并后版本数", "说明"):
            combined.add_column(col)
        for c in result.combined:
            note = ""
            if c.revoked:
                note = "两条均已撤销：合并后仍为已撤销"
            elif c.dropped_revocation:
                note = (f"其中一条已撤销（{escape(c.dropped_revocation)}），另一条未撤销：合并后的记录未撤销；"
                        "如该决定确已撤销，请在合并后撤销该记录")
            combined.add_row(c.kind_label, escape(c.decision_no), c.authority_uscc, str(c.kept_record_id),
                             f"{c.folded_record_id}（删除）", str(c.versions), note)
        out.print(combined)
    for note in result.notes:
        out.print(f"注意：{escape(note)}")
    if result.applied:
        out.print(f"已将主体 {o.id} 并入主体 {k.id}，主体 {o.id} 已删除"
                  f"（审计日志第 {result.audit_seq} 条，原因：{escape(result.reason or '')}）")
    else:
        out.print('以上为预览，未作任何改动；确认无误后加 --apply --reason "原因" 执行合并')


@records_app.command("reclassify")
def records_reclassify(
    apply: Annotated[bool, typer.Option("--apply", help="保存改变（不加此项只列出将改变的记录）")] = False,
) -> None:
    """按各处罚决定日期当时有效的规则，重新认定已保存处罚的失信程度和公示期限。

    规则包修订后，或平台认定方法修正后使用：重复报送的相同记录不会重新认定。每项改变记入审计日志。
    """
    from xinyong.records.service import reclassify_penalties

    require_ready()
    progress = Progress(TextColumn("[bold]重新认定[/]"), TextColumn("{task.completed} 条处罚"),
                        console=err, transient=True, disable=not err.is_terminal)
    try:
        with progress, db.transaction() as session:
            task = progress.add_task("", total=None)
            examined, changes = reclassify_penalties(
                session, actor="cli:records reclassify", apply=apply,
                progress=lambda done: progress.update(task, completed=done))
            if not apply:
                session.rollback()
    except XinyongError as exc:
        raise fail(exc.message, 2) from None
    table = Table(title=f"认定改变的处罚（共检查 {examined} 条）")
    for col in ("记录", "决定文书号", "当事人", "失信程度", "公示", "公示截止", "依据"):
        table.add_column(col)
    for change in changes[:SHOWN_CHANGES]:
        b, a = change.before, change.after
        table.add_row(
            str(change.record_id), change.decision_no, change.subject_name,
            f"{b['penalty_class']} → {a['penalty_class']}",
            f"{'是' if b['published'] else '否'} → {'是' if a['published'] else '否'}",
            f"{b['publication_end']} → {a['publication_end']}", a["class_reason"],
        )
    _print_changes(table, len(changes), apply, nothing=f"共检查 {examined} 条处罚，认定均无改变")


@records_app.command("redeadline")
def records_redeadline(
    apply: Annotated[bool, typer.Option("--apply", help="保存改变（不加此项只列出将改变的记录）")] = False,
) -> None:
    """按现有工作日历重新计算所有暂定的公示期限（7 个工作日）及是否按时报送。

    载入某年节假日安排（calendar load）时会自动重新计算涉及该年的暂定期限，以及计数经过该次载入所改变
    日期的期限；升级到内置了新一年安排的版本后，或平台升级前已载入过安排时，用本命令补算。每项改变记入审计日志。
    """
    from xinyong.records.service import recompute_deadlines

    require_ready()
    try:
        with db.transaction() as session:
            examined, changes = recompute_deadlines(session, actor="cli:records redeadline", apply=apply)
            if not apply:
                session.rollback()
    except XinyongError as exc:
        raise fail(exc.message, 2) from None
    table = Table(title=f"公示期限改变的记录版本（共检查 {examined} 条暂定期限）")
    for col in ("记录", "版本", "决定文书号", "当事人", "公示期限", "暂定", "按时报送"):
        table.add_column(col)

    def yes(value: object) -> str:
        return "是" if value else "否"

    for change in changes[:SHOWN_CHANGES]:
        b, a = change.before, change.after
        table.add_row(
            str(change.record_id), str(change.version), change.decision_no, change.subject_name,
            f"{b['deadline']} → {a['deadline']}",
            f"{yes(b['deadline_provisional'])} → {yes(a['deadline_provisional'])}",
            f"{yes(b['on_time'])} → {yes(a['on_time'])}",
        )
    _print_changes(table, len(changes), apply, nothing=f"共检查 {examined} 条暂定的公示期限，均无改变")


def _print_changes(table: Table, count: int, apply: bool, *, nothing: str) -> None:
    """The changes a re-deciding command found (the first SHOWN_CHANGES rows in ``table``), and
    whether they were saved."""
    out.print(table if count else nothing)
    if count > SHOWN_CHANGES:
        out.print(f"……另有 {count - SHOWN_CHANGES} 条")
    if count:
        out.print(f"已保存 {count} 条改变（均记入审计日志）" if apply else f"将改变 {count} 条；确认后加 --apply 保存")


@calendar_app.command("load")
def calendar_load(file: Annotated[Path, typer.Argument(help="某年节假日安排的 YAML 文件")]) -> None:
    """载入国务院办公厅公布的某年节假日与调休安排，并重新计算涉及该年的暂定公示期限，
    以及计数经过本次载入所改变日期的公示期限（已确定的也重新计算）。"""
    from xinyong.core.calendar import import_schedule

    require_ready()
    try:
        with db.transaction() as session:
            loaded = import_schedule(session, file, actor="cli:calendar load")
    except (ValueError, OSError) as exc:
        raise fail(str(exc), 2) from None
    except XinyongError as exc:
        raise fail(exc.message, 2) from None
    schedule = loaded.schedule
    out.print(f"已{'替换' if loaded.replaced else '载入'} {schedule.year} 年安排（{schedule.source}），"
              f"共 {len(schedule.entries)} 天")
    for year, days in sorted(loaded.held_elsewhere.items()):
        out.print(f"其中 {'、'.join(map(str, days))} 已在 {year} 年安排中（放假或上班相同），未重复保存")
    if loaded.changed_days:
        out.print(f"与载入前的工作日历相比，{len(loaded.changed_days)} 天的放假或上班有改变")
    if loaded.examined:
        out.print(f"已重新计算 {loaded.examined} 条公示期限（涉及该年的暂定期限，及计数经过改变日期的期限），"
                  f"其中 {loaded.changed} 条改变（期限、是否暂定或按时报送；均记入审计日志）")
    else:
        out.print("没有需要重新计算的公示期限（没有涉及该年的暂定期限，也没有计数经过改变日期的期限）")


@calendar_app.command("show")
def calendar_show(year: int) -> None:
    """列出某年的非周末节假日和调休上班日，并说明该年安排是否已公布。"""
    from xinyong.core.calendar import load_calendar

    require_ready()
    with db.transaction() as session:
        cal = load_calendar(session)
    state = "已公布" if cal.is_published(year) else "未公布（按周末和 holidays 包推算的法定节假日计算，结果为暂定）"
    out.print(f"{year} 年：{state}")
    day = dt.date(year, 1, 1)
    while day.year == year:
        weekend = day.weekday() >= 5
        working = cal.is_working_day(day)
        if weekend == working:
            out.print(f"  {day:%Y-%m-%d} 周{'一二三四五六日'[day.weekday()]} {'调休上班' if working else '放假'}")
        day += dt.timedelta(days=1)


def _day_option(raw: str | None, label: str) -> dt.date | None:
    """A date option (YYYY-MM-DD) or None; one that cannot be read stops the command (exit 2)."""
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise fail(f"{label}没有这一天：{raw}（月份或日期超出范围）", 2) from None
        raise fail(f"{label or '日期'}格式错误：{raw}（应为 YYYY-MM-DD）", 2) from None


@quality_app.command("codes")
def quality_codes(
    since: Annotated[str | None, typer.Option(help="统计此日起收到的批次（YYYY-MM-DD）")] = None,
    until: Annotated[str | None, typer.Option(help="统计到此日为止收到的批次（YYYY-MM-DD，含）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（每个名单全部列出）")] = False,
    xlsx: Annotated[Path | None, typer.Option("--xlsx", help="把全部明细写入 Excel 文件")] = None,
    shown: Annotated[int, typer.Option("--shown", min=0, help="每个名单在屏幕上列出的项数")] = 20,
) -> None:
    """统一社会信用代码重错码情况：重码（一码多名、一名多码）和各部门报送的错码，对照本地区目标。"""
    from xinyong.ingest.service import code_quality, code_quality_xlsx
    from xinyong.policy.cli_render import rate_in_words

    require_ready()
    start, end = _day_option(since, "起始日期"), _day_option(until, "截止日期")
    if start and end and start > end:
        raise fail(f"起始日期 {start} 晚于截止日期 {end}", 2)
    with db.transaction() as session:
        report = code_quality(session, since=start, until=end, limit=None if as_json or xlsx else shown)
    if xlsx is not None:
        code_quality_xlsx(report, xlsx)
        err.print(f"全部明细已写入 {xlsx}")
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return

    def share(rate: float | None) -> str:
        if rate is None:
            return "—"
        verdict = {True: "（达标）", False: "（未达标）", None: ""}[report.meets(rate)]
        return rate_in_words(rate) + verdict

    d = report.duplicates
    area = "全国" if report.jurisdiction == "CN" else report.jurisdiction
    target = (f"重错码率低于{report.target.in_words}（{report.target.citation}）" if report.target
              else f"本地区（{area}）的规则包没有重错码率目标")
    out.print(f"统一社会信用代码重错码情况（{report.on:%Y-%m-%d}）  目标：{target}", soft_wrap=True)
    out.print(f"疑似重码的主体 {d.suspected_subjects} 个 / 统一登记的主体 {d.subjects_total} 个，"
              f"重码率 {share(report.duplicate_rate)}")
    period = f"（{start or '最早'} 至 {end or '今天'} 收到的批次）" if start or end else ""
    out.print(f"报送 {report.rows_total} 行，因主体代码错误拒收 {report.rows_wrong_code} 行，"
              f"错码率 {share(report.wrong_code_rate)}{period}")
    table = Table(title="各部门报送错码")
    for col in ("报送部门", "报送行数", "错码行数", "错码率", "错误类型"):
        table.add_column(col)
    for dep in report.departments:
        if dep.rows_total:
            table.add_row(dep.name, str(dep.rows_total), str(dep.rows_wrong_code), share(dep.rate),
                          "\n".join(f"{k.label} {k.rows} 行" for k in dep.kinds) or "—")
    out.print(table if table.row_count else "所选期间没有收到批次")
    names = Table(title=f"一码多名：{d.under_names_total} 个代码，其中同期使用（疑似重码）{d.concurrent_total} 个")
    for col in ("主体", "代码", "使用过的名称（决定日期）", "判断", "相似度"):
        names.add_column(col)
    for u in d.under_names:
        used = [f"{n.name} {n.first_seen_on}" + (f"至{n.last_seen_on}" if n.last_seen_on != n.first_seen_on else "")
                for n in u.names]
        names.add_row(u.subject.name, _codes_of(u.subject), "\n".join(used),
                      "同期使用，疑似重码" if u.concurrent else "先后使用（更名）", f"{u.similarity}%")
    out.print(names if names.row_count else "一码多名：没有以不止一个名称出现的代码")
    codes = Table(title=f"一名多码：{d.under_codes_total} 个名称")
    for col in ("名称", "主体及代码"):
        codes.add_column(col)
    for g in d.under_codes:
        codes.add_row(g.name, "\n".join(
            f"{s.name}（{s.kind_label}，区划 {s.area_code or '—'}，编号 id:{s.id}）{_codes_of(s)}" for s in g.subjects))
    out.print(codes if codes.row_count else "一名多码：没有对应不同代码的同名主体")
    if len(d.under_names) < d.under_names_total or len(d.under_codes) < d.under_codes_total:
        out.print(f"每个名单只列出前 {shown} 项；全部明细用 --xlsx 文件名 或 --json 导出")


def _codes_of(subject: object) -> str:
    parts = (("统一社会信用代码", "uscc"), ("注册号", "reg_no"), ("组织机构代码", "org_code"))
    return " ".join(f"{label} {value}" for label, key in parts if (value := getattr(subject, key)))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    workers: Annotated[int, typer.Option(help="工作进程数")] = 1,
) -> None:
    """启动网站与 API 服务（Uvicorn）。"""
    import uvicorn

    from xinyong.core.config import get_settings
    from xinyong.web.observability import configure_logging

    require_ready()
    configure_logging()
    out.print(f"信用 Xinyong 已启动：http://{host}:{port}/ （API 文档 /api/docs）")
    # Uvicorn's own proxy-header handling would take any X-Forwarded-For of a client connecting
    # from 127.0.0.1 as its address; the platform reads that header itself, and only when
    # XINYONG_TRUST_PROXY says the proxy is there (``web.deps.client_ip``).
    trusted = get_settings().trust_proxy
    uvicorn.run("xinyong.web.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_config=None, access_log=False, proxy_headers=trusted,
                forwarded_allow_ips="*" if trusted else None, server_header=False,
                timeout_graceful_shutdown=get_settings().graceful_shutdown_seconds or None)


@app.command()
def demo(
    subjects: Annotated[int, typer.Option(help="信用主体数量")] = 300,
    seed: Annotated[int, typer.Option(help="随机种子（相同种子生成相同数据）")] = 2026,
    write_csv: Annotated[
        Path | None, typer.Option(help="不入库，只把数据写成双公示 CSV 文件到此目录")
    ] = None,
) -> None:
    """生成演示数据（合法代码、中文名称、多个城市的部门、各类许可与处罚）并归集入库。"""
    from xinyong.demo.service import load_demo, write_demo_files

    if write_csv is not None:
        files = write_demo_files(write_csv, subjects=subjects, seed=seed, today=clock.today())
        for path, count in files:
            out.print(f"已写入 {path}（{count} 行）")
        return
    require_ready()
    from xinyong.subjects.service import examples

    reports = load_demo(subjects=subjects, seed=seed, actor=cli_actor("demo"))
    for r in reports:
        out.print(f"{r.file}：{r.rows_total} 行，新增 {r.accepted}，更正 {r.corrected}，"
                  f"未变化 {r.unchanged}，拒收 {r.rejected}")
    from xinyong.demo.service import create_demo_users

    accounts = create_demo_users(actor=cli_actor("demo"))
    if accounts:
        logins = Table(title="演示账号（仅用于演示数据库）")
        for col in ("角色", "用户名", "密码", "可以做什么"):
            logins.add_column(col)
        for row in accounts:
            logins.add_row(*row)
        out.print(logins)
    with db.transaction() as session:
        table = Table(title="可以查询的演示主体（xinyong subject show 代码）")
        for col in ("类别", "名称", "代码"):
            table.add_column(col)
        for row in examples(session):
            table.add_row(*row)
    out.print(table)


def _register_module_commands() -> None:
    """Each domain module may contribute a Typer app in ``<module>/commands.py`` (name = module)."""
    import importlib

    for module, name in (("accounts", "user"), ("core", "audit")):
        try:
            mod = importlib.import_module(f"xinyong.{module}.commands")
        except ModuleNotFoundError as exc:
            if exc.name != f"xinyong.{module}.commands":
                raise
            continue
        for sub_name, sub_app in getattr(mod, "COMMANDS", {name: mod.app}).items():
            app.add_typer(sub_app, name=sub_name)


_register_module_commands()


def main() -> None:
    try:
        app()
    except XinyongError as exc:
        err.print(f"[bold red]错误：[/]{exc.message}")
        sys.exit(1)
    except PlatformFault as exc:  # the platform refuses to work (the audit log's head is wrong)
        err.print(f"[bold red]错误：[/]{exc.message}")
        sys.exit(4)


if __name__ == "__main__":
    main()
