"""Shapes of subjects as shown to users (personal ids masked)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


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
    names: list[NameOut]
    legal_representatives: list[LegalRepresentativeOut]
