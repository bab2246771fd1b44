"""Filling a database with demo data through the real intake, and writing it as 双公示 files."""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path

from xinyong.core import clock, db
from xinyong.demo.generator import (
    LICENCE_HEADERS,
    PENALTY_HEADERS,
    licence_rows,
    penalty_rows,
    write_csv,
)
from xinyong.ingest.schemas import IngestReport
from xinyong.ingest.service import audit_submission, ingest_file

# share of penalty rows re-sent with a changed content, to show corrections in the demo
CORRECTION_EVERY = 25


def write_demo_files(directory: Path, *, subjects: int, seed: int, today: dt.date) -> list[tuple[Path, int]]:
    """Write the demo data as 双公示 CSV files (penalties, licences, and a file of corrections)."""
    directory.mkdir(parents=True, exist_ok=True)
    penalties = directory / "demo_penalties.csv"
    licences = directory / "demo_licences.csv"
    corrections = directory / "demo_penalty_corrections.csv"
    n_pen = write_csv(penalties, PENALTY_HEADERS, penalty_rows(subjects, seed, today=today))
    n_lic = write_csv(licences, LICENCE_HEADERS, licence_rows(subjects, seed, today=today))
    n_cor = write_csv(corrections, PENALTY_HEADERS, _corrections(penalties))
    return [(penalties, n_pen), (licences, n_lic), (corrections, n_cor)]


def _corrections(penalties: Path) -> list[dict[str, str]]:
    """Every n-th penalty re-sent with its content amended, as a department correcting a typo."""
    with open(penalties, encoding="utf-8", newline="") as fh:
        rows = [row for i, row in enumerate(csv.DictReader(fh)) if i % CORRECTION_EVERY == 3]
    for row in rows:
        row["处罚内容"] = row["处罚内容"] + "（更正：补充履行期限）"
    return rows


def load_demo(*, subjects: int, seed: int, actor: str) -> list[IngestReport]:
    """Generate demo files and ingest them into the configured database, one batch per file,
    each audited as any intake is (``batch.submit``, naming ``actor``)."""
    reports = []
    with tempfile.TemporaryDirectory(prefix="xinyong-demo-") as tmp:
        files = write_demo_files(Path(tmp), subjects=subjects, seed=seed, today=clock.today())
        for path, _count in files:
            kind = "licences" if "licences" in path.name else "penalties"
            with db.transaction() as session:
                report = ingest_file(session, path, kind, submitted_by=actor)
                audit_submission(session, report, actor=actor, ip=None)
                reports.append(report)
    return reports


# Demo accounts: one per role. The passwords are public on purpose — demo databases only.
DEMO_PASSWORD_SUFFIX = "-demo-2026"


def create_demo_users(*, actor: str) -> list[tuple[str, str, str, str]]:
    """One user per role on the demo data: (role label, username, password, what they can see);
    each creation is audited (``user.create``, naming ``actor``)."""
    from sqlalchemy import func, select

    from xinyong.accounts import service as accounts
    from xinyong.accounts.access import ROLE_LABELS, Role
    from xinyong.records.models import Record

    rows: list[tuple[str, str, str, str]] = []
    with db.transaction() as session:
        busiest = session.execute(
            select(Record.department_id, func.count()).group_by(Record.department_id)
            .order_by(func.count().desc(), Record.department_id).limit(2)
        ).all()
        departments = [accounts.get_department(session, dept_id) for dept_id, _ in busiest]
        subject_id = session.scalar(
            select(Record.subject_id).where(Record.kind == "penalty").order_by(Record.id).limit(1)
        )
        plan: list[tuple[Role, str, dict[str, object], str]] = [
            (Role.ADMIN, "admin", {}, "全部部门、用户、API 密钥、质量概览、审计日志"),
            (Role.AUDITOR, "auditor", {}, "审计日志、报送批次与记录、质量概览（只读）"),
            (Role.APPROVER, "approver", {}, "非公开信息查询"),
        ]
        for i, department in enumerate(d for d in departments if d is not None):
            plan.append((Role.OFFICER, f"officer{i + 1}", {"department_id": department.id},
                         f"{department.name}的报送与记录"))
        if subject_id is not None:
            plan.append((Role.SUBJECT, "subject", {"subject_id": subject_id}, "本主体的完整信用记录和查询记录"))
        for role, username, extra, note in plan:
            if accounts.find_user(session, username) is not None:
                continue
            password = username + DEMO_PASSWORD_SUFFIX
            accounts.create_user(session, username=username, password=password, role=role,
                                 display_name=f"演示{ROLE_LABELS[role]}", actor=actor, **extra)  # type: ignore[arg-type]
            rows.append((ROLE_LABELS[role], username, password, note))
    return rows
