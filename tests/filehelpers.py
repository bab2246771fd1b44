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


# the 2016 layout's penalty columns
HEADERS_2016 = ["行政处罚决定书文号", "处罚名称", "处罚类别1", "处罚类别2", "处罚事由", "处罚依据", "行政相对人名称",
                "行政相对人代码_1(统一社会信用代码)", "行政相对人代码_2(组织机构代码)", "行政相对人代码_3(工商登记码)",
                "行政相对人代码_4(税务登记号)", "行政相对人代码_5(居民身份证号)", "法定代表人姓名", "处罚结果",
                "处罚决定日期", "处罚机关", "当前状态", "地方编码", "数据更新时间戳", "备注"]


def in_2016_layout(row: dict[str, str], **changes: str) -> dict[str, str]:
    """A penalty row of the current layout as a department's older system writes it in the 2016
    layout (``HEADERS_2016``): the columns both have, 当前状态 0 (正常), and ``changes``."""
    old = dict.fromkeys(HEADERS_2016, "")
    old.update({
        "行政处罚决定书文号": row[DECISION_NO], "处罚名称": row["违法行为类型"], "处罚类别1": row["处罚类别"],
        "处罚事由": row["违法事实"], "处罚依据": row["处罚依据"], "行政相对人名称": row[NAME],
        "行政相对人代码_1(统一社会信用代码)": row[USCC], "法定代表人姓名": row["法定代表人"],
        "处罚结果": row["处罚内容"], "处罚决定日期": row[DECISION_DATE], "处罚机关": row["处罚机关"],
        "当前状态": "0", "地方编码": "130102", "数据更新时间戳": "2024-08-20 10:20:30", "备注": row["备注"],
        **changes,
    })
    return old


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
