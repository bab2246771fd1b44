"""The quality report of a batch."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IssueOut(BaseModel):
    line: int | None = Field(description="physical line in the file; the header is line 1")
    field: str | None = Field(description="the column header as written in the file")
    code: str
    message: str = Field(description="说明（中文）")


class RegisteredDepartment(BaseModel):
    uscc: str
    name: str


class IngestReport(BaseModel):
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
    errors: list[IssueOut] = []
    warnings: list[IssueOut] = []
    departments_registered: list[RegisteredDepartment] = []

    @property
    def exit_code(self) -> int:
        """0 when every row was stored or unchanged, 3 when some rows were rejected."""
        return 3 if self.rejected else 0
