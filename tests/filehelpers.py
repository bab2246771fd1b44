"""One-line helpers to read the sample files and write variants of them."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import Engine, func, select

from xinyong.core import db
from xinyong.ingest.schemas import IngestReport
from xinyong.ingest.service import ingest_file

FIXTURES = Path(__file__).parent / "fixtures"

# column headers of the penalties template (the sample files' own)
USCC = "行政相对人代码_1(统一社会信用代码)"
REG_NO = "行政相对人代码_2(工商注册号)"
ORG_CODE = "行政相对人代码_3(组织机构代码)"
NAME = "行政相对人名称"
CATEGORY = "行政相对人类别"
DECISION_NO = "行政处罚决定书文号"
DECISION_DATE = "处罚决定日期"
AUTHORITY_USCC = "处罚机关统一社会信用代码"


def sample_rows(name: str = "penalties.csv") -> tuple[list[str], list[dict[str, str]]]:
    with open(FIXTURES / name, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def write_rows(path: Path, headers: list[str], rows: list[dict[str, str]], *, encoding: str = "utf-8",
               newline: str = "\n") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=headers, lineterminator=newline)
        writer.writeheader()
        writer.writerows(rows)
    return path


def ingest(path: Path, kind: str = "penalties", **kwargs: object) -> IngestReport:
    """Ingest a file in its own transaction, as the CLI does."""
    with db.transaction() as session:
        return ingest_file(session, path, kind, **kwargs)  # type: ignore[arg-type]


def count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()
