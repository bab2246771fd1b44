"""Shapes of records and versions as shown to users, with status as of a given day."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Status(StrEnum):
    PUBLISHED = "published"
    PUBLICATION_ENDED = "publication_ended"
    NOT_PUBLISHED = "not_published"
    CORRECTED = "corrected"
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    Status.PUBLISHED: "公示中",
    Status.PUBLICATION_ENDED: "公示期满",
    Status.NOT_PUBLISHED: "不予公示",
    Status.CORRECTED: "已更正",
    Status.REVOKED: "已撤销",
}


class Provenance(BaseModel):
    batch_id: int
    line: int = Field(description="文件中的行号（表头为第 1 行；工作簿有多个工作表的记录时为所在工作表的行号）")
    sheet: str | None = Field(None, description="所在工作表：只在工作簿有多个工作表的记录时给出")
    department: str
    department_uscc: str
    received_at: dt.datetime

    @property
    def where(self) -> str:
        """第 12 行, or 工作表“自然人”第 12 行."""
        return f"工作表“{self.sheet}”第 {self.line} 行" if self.sheet else f"第 {self.line} 行"


class VersionOut(BaseModel):
    version: int
    status: Status
    status_label: str
    decision_date: dt.date
    subject_name: str
    penalty_class: str | None
    class_reason: str | None
    class_rule: str | None
    publication_min_end: dt.date | None
    publication_end: dt.date | None
    publication_rule: str | None
    deadline: dt.date
    deadline_provisional: bool
    deadline_rule: str
    on_time: bool
    data: dict[str, Any]
    provenance: Provenance


class RecordOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    decision_no: str
    authority_uscc: str
    status: Status
    status_label: str
    revoked_at: dt.datetime | None
    revoke_reason: str | None
    versions: list[VersionOut]

    @property
    def current(self) -> VersionOut:
        return self.versions[-1]
