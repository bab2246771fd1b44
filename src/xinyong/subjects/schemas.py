"""Shapes of subjects as shown to users (personal ids masked)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

MAX_PER_PAGE = 100  # subjects on one page of search answers


class NameOut(BaseModel):
    name: str
    first_seen_on: dt.date
    last_seen_on: dt.date


class LegalRepresentativeOut(BaseModel):
    name: str
    id_type: str | None
    id_masked: str | None
    first_seen_on: dt.date
    last_seen_on: dt.date


class SubjectOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    category: str
    name: str
    uscc: str | None
    org_code: str | None
    reg_no: str | None
    person_id_type: str | None
    person_id_masked: str | None
    area_code: str | None
    names: list[NameOut]  # every spelling received, with when
    # names other than the current one, spellings of it (full-width brackets, spaces) not counted
    former_names: list[str] = []
    legal_representatives: list[LegalRepresentativeOut]


# --------------------------------------------------------------------------- merging two subjects


class SubjectCodes(BaseModel):
    """A subject's kind, current name and public codes (never a person's)."""

    kind: str
    kind_label: str
    name: str
    uscc: str | None
    org_code: str | None
    reg_no: str | None
    area_code: str | None


class CodedSubject(SubjectCodes):
    """A subject as the code-quality report lists it: its name and codes, and its platform number."""

    id: int


class MergeSide(CodedSubject):
    """One subject of a merge as it is before it (public codes only: persons are never merged)."""

    records: int
    names: int  # rows of its name history
    legal_representatives: int


class CombinedDecisionOut(BaseModel):
    """A decision both subjects had a record of, whose two records become one."""

    kind_label: str
    decision_no: str
    authority_uscc: str
    kept_record_id: int
    folded_record_id: int
    versions: int  # of the combined record: both histories, ordered by time received
    current_from_record_id: int  # the record whose last version, the last received, is current
    revoked: bool  # the combined record is revoked (both were)
    dropped_revocation: str | None  # the revocation (date: reason) of one of them that is not kept


class MergeResult(SubjectCodes):
    """What merging subject ``other`` into ``keep`` does (``applied`` False: a preview, nothing
    changed) or did; its own kind, name and codes are the subject's after the merge."""

    applied: bool
    reason: str | None
    keep: MergeSide
    other: MergeSide
    codes_gained: dict[str, str]  # field -> value ``keep`` gains
    names_moved: int  # rows of ``other``'s name history moved as they are
    names_joined: int  # rows joined with a row of the same name ``keep`` has
    legal_representatives_moved: int
    legal_representatives_joined: int
    records_moved: int  # ``other``'s records, the combined ones included
    versions_moved: int
    combined: list[CombinedDecisionOut]
    records_after: int
    users_moved: list[str]  # user names of ``other``'s accounts, now accounts of ``keep``
    audit_seq: int | None = None
    notes: list[str] = []  # what an administrator should know (Chinese)


# --------------------------------------------------------------------------- public search and API
# The public API's contract: other systems depend on these names, so change them only additively.


class PublicIdentity(BaseModel):
    """Who a subject is, as anyone may see it: its name and codes, a personal id masked."""

    name: str
    kind: str
    kind_label: str
    uscc: str | None
    masked_id: str | None
    reg_no: str | None
    org_code: str | None
    area_code: str | None


class SearchHit(PublicIdentity):
    """A subject found by a search, as anyone may see it."""

    subject_id: int
    code: str  # how the subject is addressed in URLs: never a full personal id
    matched_name: str | None = None  # the former name that matched, when not the current one
    score: float = 0.0


class SearchResult(BaseModel):
    query: str  # as typed, a personal id masked
    by_code: bool
    total: int
    page: int
    per_page: int
    truncated: bool  # more subjects match than were ranked: the query is too broad
    items: list[SearchHit]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class SubjectItemOut(BaseModel):
    name: str
    kind: str
    uscc: str | None
    masked_id: str | None
    area_code: str | None
    url: str


class SubjectSearchIn(BaseModel):
    """A search sent in the request body: the only way the API finds a person by resident id (a
    URL must not carry one)."""

    q: str = Field(min_length=1, max_length=200, description="名称的一部分，或任一代码（含公民身份号码）")
    page: int = Field(1, ge=1, le=10_000)
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)


class SubjectSearchOut(BaseModel):
    query: str
    total: int
    page: int
    per_page: int
    items: list[SubjectItemOut]


class PublicRecordOut(BaseModel):
    kind: str
    kind_label: str
    decision_no: str
    decision_date: dt.date
    authority_name: str
    authority_uscc: str
    content: str
    legal_basis: str | None
    penalty_class: str | None
    publication_end: dt.date | None
    status: str
    status_label: str
    fields: dict[str, Any]  # every field the catalogue marks public, personal ids masked


class SubjectDetailOut(PublicIdentity):
    url: str
    former_names: list[str]
    records: list[PublicRecordOut]


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


# --------------------------------------------------------------------------- duplicate codes (重码)


class CodeUnderNames(BaseModel):
    """一码多名: one subject — one code — that records name in more than one way.

    ``concurrent``: two of the names were in use in the same period (by decision date), which
    a rename does not explain: suspected to be one code used for two businesses (疑似重码).
    Names used one after the other are a rename, listed but not counted."""

    subject: CodedSubject
    names: list[NameOut]
    concurrent: bool
    similarity: int  # 0–100: how alike the two least alike names are


class NameUnderCodes(BaseModel):
    """一名多码: one name (compared after normalisation) under which several subjects appear."""

    name: str
    subjects: list[CodedSubject]


class DuplicateCodes(BaseModel):
    """Subjects whose codes are suspected to be duplicates (重码), for 重错码 governance."""

    subjects_total: int  # organisations and individual businesses: the codes examined
    suspected_subjects: int  # distinct subjects in a concurrent 一码多名 or in a 一名多码
    under_names_total: int
    concurrent_total: int
    under_names: list[CodeUnderNames]  # concurrent first, then the least alike names first
    under_codes_total: int
    under_codes: list[NameUnderCodes]  # most subjects first
