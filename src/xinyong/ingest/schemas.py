"""The quality report of a batch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field, computed_field

from xinyong.subjects.schemas import DuplicateCodes


class IssueOut(BaseModel):
    line: int | None = Field(description="physical line in the file (in its worksheet); the header is line 1")
    field: str | None = Field(description="the column header as written in the file")
    code: str
    message: str = Field(description="说明（中文）")
    sheet: str | None = Field(
        None, exclude_if=lambda v: v is None,
        description="工作表名称：只在工作簿有多个工作表的记录时给出（line 是该工作表的行号）")

    @property
    def place(self) -> str:
        """The line as a table shows it: 12, or 自然人 12 when the workbook had several sheets."""
        if self.line is None:
            return ""
        return f"{self.sheet} {self.line}" if self.sheet else str(self.line)


class SheetRead(BaseModel):
    """A worksheet read, when a workbook has records on several."""

    name: str
    rows_before: int = Field(description="前面各工作表的行数：平台内部按各表连排编号，"
                                         "该表第 n 行即批次中的第 rows_before + n 行（出处中的行号仍按工作表给出）")


class RegisteredDepartment(BaseModel):
    uscc: str
    name: str


class IngestReport(BaseModel):
    """The quality report of a batch.

    In memory (``ingest_file``, ``batch_report``) ``errors`` and ``warnings`` hold the first
    issues only, at most ``ingest.service.ISSUE_SAMPLE`` of each, so that memory stays flat
    whatever the file; the counts are complete. The full report, with every issue, is written
    by ``ingest.service.report_chunks`` straight from the stored issues.
    """

    kind: str
    file: str
    batch_id: int | None = None
    format: str | None = None
    encoding: str | None = None
    layout: str | None = None
    rows_total: int = 0
    accepted: int = 0
    corrected: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors_count: int = Field(0, description="错误总数（每个错误一条，一行可有多个错误）")
    warnings_count: int = Field(0, description="警告总数")
    errors: list[IssueOut] = Field(
        [], description="每个错误，按行号排列（同一行内按列的顺序）；完整报告列出全部错误"
    )
    warnings: list[IssueOut] = Field([], description="每个警告，按行号排列；完整报告列出全部警告")
    departments_registered: list[RegisteredDepartment] = []
    sheets: list[SheetRead] = Field([], exclude_if=lambda v: not v,
                                    description="读取的各工作表，按顺序：只在工作簿有多个工作表的记录时给出")

    @property
    def exit_code(self) -> int:
        """0 when every row was stored or unchanged, 3 when some rows were rejected."""
        return 3 if self.rejected else 0


class BatchOut(BaseModel):
    """One batch in a list: what was sent, when, by whom, and how it went."""

    batch_id: int
    kind: str = Field(description="penalties 行政处罚，licences 行政许可")
    file: str
    format: str
    received_at: str = Field(description="接收时间（ISO 8601，带时区）")
    submitted_by: str
    department: str | None = Field(description="报送部门")
    rows_total: int
    accepted: int
    corrected: int
    unchanged: int
    rejected: int
    errors_count: int
    warnings_count: int
    report_url: str = Field(description="完整质量报告")
    rejected_url: str | None = Field(description="未通过的行（CSV，可改正后重新报送）；没有时为 null")


class BatchListOut(BaseModel):
    items: list[BatchOut]
    limit: int
    offset: int


# --------------------------------------------------------------------------- code quality (重错码)

SUBJECT_CODE_FIELDS = ("uscc", "reg_no", "org_code")  # the party's codes governed by 重错码治理
# errors that say a party's code is wrong, with what users call them
WRONG_CODE_LABELS: dict[str, str] = {
    "uscc_length": "统一社会信用代码位数不对",
    "uscc_charset": "统一社会信用代码含无效字符",
    "uscc_checksum": "统一社会信用代码校验位错误",
    "uscc_authority": "统一社会信用代码登记管理部门代码无效",
    "uscc_category": "统一社会信用代码机构类别代码无效",
    "uscc_area": "统一社会信用代码行政区划码无效",
    "uscc_placeholder": "占位代码填错位置",
    "ric_in_uscc_column": "统一社会信用代码栏填的是公民身份号码",
    "reg_no_length": "工商注册号位数不对",
    "reg_no_charset": "工商注册号含非数字字符",
    "reg_no_checksum": "工商注册号校验位错误",
    "org_code_length": "组织机构代码位数不对",
    "org_code_charset": "组织机构代码含无效字符",
    "org_code_checksum": "组织机构代码校验位错误",
    "excel_number": "代码被 Excel 存成数字，后几位已丢失",
}


class WrongCodeKind(BaseModel):
    code: str
    label: str
    rows: int


class DepartmentCodeErrors(BaseModel):
    """Rows a department sent in the period, and those rejected because a party's code was wrong."""

    department_id: int | None  # None: batches that name no department
    name: str
    uscc: str | None
    rows_total: int
    rows_wrong_code: int
    kinds: list[WrongCodeKind]  # most rows first

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rate(self) -> float | None:
        return self.rows_wrong_code / self.rows_total if self.rows_total else None


class CodeQualityTarget(BaseModel):
    """The 重错码率 to stay below, from the policy pack of the platform's jurisdiction."""

    rate_below: Decimal
    in_words: str  # 万分之一
    rule_id: str
    title: str
    citation: str
    verified: bool


class CodeQuality(BaseModel):
    """The 重错码 report: suspected duplicate codes among stored subjects (重码), and the rows
    departments sent with a wrong code (错码), which intake rejected and so never reached the
    subject registry."""

    on: dt.date
    since: dt.date | None
    until: dt.date | None
    jurisdiction: str
    target: CodeQualityTarget | None
    duplicates: DuplicateCodes
    departments: list[DepartmentCodeErrors]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duplicate_rate(self) -> float | None:
        d = self.duplicates
        return d.suspected_subjects / d.subjects_total if d.subjects_total else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rows_total(self) -> int:
        return sum(d.rows_total for d in self.departments)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rows_wrong_code(self) -> int:
        return sum(d.rows_wrong_code for d in self.departments)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def wrong_code_rate(self) -> float | None:
        return self.rows_wrong_code / self.rows_total if self.rows_total else None

    def meets(self, rate: float | None) -> bool | None:
        """Whether a rate is below the target (None: no target, or nothing to measure)."""
        if self.target is None or rate is None:
            return None
        return Decimal(str(rate)) < self.target.rate_below
