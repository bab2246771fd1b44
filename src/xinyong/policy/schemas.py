"""Typed shapes of policy packs: sources, rules and the parameters of each rule kind."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    PrivateAttr,
    field_validator,
    model_validator,
)

JURISDICTION_PATTERN = re.compile(r"^(CN|\d{6})$")
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


def _date_text(value: Any) -> Any:
    """Accept only ISO dates (text or date): a bare number would parse as a Unix timestamp."""
    if value is None or isinstance(value, (str, dt.date)):
        return value
    raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}")


def check_jurisdiction(value: str) -> str:
    """Validate a jurisdiction: "CN" or a six-digit GB/T 2260 area code."""
    if not isinstance(value, str) or not JURISDICTION_PATTERN.match(value) or value == "000000":
        raise ValueError(f'jurisdiction must be "CN" or a six-digit GB/T 2260 code, got {value!r}')
    return value


class Source(BaseModel):
    """Where a rule comes from: the document, its number and article, and any caveat."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document: str = Field(min_length=1)
    number: str | None = None
    issuer: str | None = None
    article: str | None = None
    date: dt.date | None = None
    url: str | None = None
    note: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        return _date_text(value)

    def citation(self) -> str:
        """A short Chinese citation, e.g. 《信用修复管理办法》（国家发展改革委令第36号）第八条."""
        text = f"《{self.document.strip('《》')}》"
        if self.number:
            text += f"（{self.number}）"
        if self.article:
            text += self.article
        return text


class Rule(BaseModel):
    """One dated rule; its ``jurisdiction``, ``pack`` and ``file`` come from the pack file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=RULE_ID_PATTERN)
    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    applies_to: tuple[str, ...] = Field(min_length=1)
    effective_from: dt.date
    effective_to: dt.date | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    source: Source
    verified: bool = False
    jurisdiction: str
    pack: str
    file: str = ""

    _typed: BaseModel | None = PrivateAttr(default=None)

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str) -> str:
        return check_jurisdiction(value)

    @field_validator("effective_from", "effective_to", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        return _date_text(value)

    @field_validator("applies_to", mode="before")
    @classmethod
    def _applies_to(cls, value: Any) -> Any:
        if isinstance(value, str):
            return (value,)
        return value

    @model_validator(mode="after")
    def _range(self) -> Rule:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(
                f"effective_to {self.effective_to} is before effective_from {self.effective_from}"
            )
        if len(set(self.applies_to)) != len(self.applies_to):
            raise ValueError("applies_to lists the same record kind twice")
        model = PARAMS_BY_KIND.get(self.kind)
        if model is not None:
            self._typed = model.model_validate(self.params)
        return self

    def __hash__(self) -> int:
        return hash((self.jurisdiction, self.id))

    def is_effective(self, on: dt.date) -> bool:
        """Whether the rule is in force on ``on`` (both ends inclusive)."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def applies(self, record_kind: str) -> bool:
        return record_kind in self.applies_to

    @property
    def typed_params(self) -> Any:
        """The parameters validated against the model of this rule kind (raw dict if none)."""
        return self._typed if self._typed is not None else self.params


# ---------------------------------------------------------------------------------------------
# Parameters of the rule kinds the code knows. Other kinds load with free-form params.


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PublicationDeadlineParams(_Params):
    """``publication_deadline``: publish within N working days of the decision."""

    working_days: PositiveInt


class SeriousCriteria(_Params):
    """What makes a penalty the most severe class when the department did not declare one."""

    class_: str = Field(alias="class", min_length=1)
    kind_keywords: tuple[str, ...] = ()
    fine_wan_at_least: Decimal | None = None
    confiscated_wan_at_least: Decimal | None = None


class MinorCriteria(_Params):
    """What makes a penalty the mildest class: only these kinds, or a small fine with them."""

    class_: str = Field(alias="class", min_length=1)
    only_kinds: tuple[str, ...] = ()
    fine_kind: str | None = None
    # Largest fine (万元) still counted as minor, by subject type, with "default" as fallback.
    fine_wan_at_most: dict[str, Decimal] = Field(default_factory=dict)

    @field_validator("fine_wan_at_most", mode="before")
    @classmethod
    def _single_amount(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, (int, float, str, Decimal)):
            return {"default": value}
        return value

    @model_validator(mode="after")
    def _fine(self) -> MinorCriteria:
        if self.fine_wan_at_most and not self.fine_kind:
            raise ValueError("minor.fine_wan_at_most needs minor.fine_kind (e.g. 罚款)")
        return self


class PenaltyClassificationParams(_Params):
    """``penalty_classification``: how a penalty is classed when the file declares no class."""

    classes: tuple[str, ...] = Field(min_length=1)
    default_class: str
    declared_wins: bool = True
    declared_aliases: dict[str, str] = Field(default_factory=dict)
    serious: SeriousCriteria | None = None
    minor: MinorCriteria | None = None

    @model_validator(mode="after")
    def _known_classes(self) -> PenaltyClassificationParams:
        known = set(self.classes)
        used = {self.default_class, *self.declared_aliases.values()}
        if self.serious:
            used.add(self.serious.class_)
        if self.minor:
            used.add(self.minor.class_)
        unknown = sorted(used - known)
        if unknown:
            raise ValueError(f"classes {unknown} are used but not listed in params.classes")
        return self


class ClassPublication(_Params):
    """Publication of one penalty class: published by default or not, and the period in months."""

    published: bool
    min_months: NonNegativeInt
    max_months: NonNegativeInt
    note: str | None = None

    @model_validator(mode="after")
    def _order(self) -> ClassPublication:
        if self.min_months > self.max_months:
            raise ValueError(f"min_months {self.min_months} > max_months {self.max_months}")
        return self


class PenaltyPublicationParams(_Params):
    """``penalty_publication``: per class, counted from the decision date."""

    classes: dict[str, ClassPublication] = Field(min_length=1)


class CodeQualityParams(_Params):
    """``code_quality``: the share of duplicate or erroneous subject codes (重错码率) to stay below."""

    rate_below: Decimal = Field(gt=0, lt=1)


PARAMS_BY_KIND: dict[str, type[BaseModel]] = {
    "publication_deadline": PublicationDeadlineParams,
    "penalty_classification": PenaltyClassificationParams,
    "penalty_publication": PenaltyPublicationParams,
    "code_quality": CodeQualityParams,
}
# Display names of record kinds (labels only; the rules themselves live in the packs).
RECORD_KIND_LABELS: dict[str, str] = {
    "licence": "行政许可",
    "penalty": "行政处罚",
    "enforcement": "行政强制",
    "confirmation": "行政确认",
    "levy": "行政征收",
    "payment": "行政给付",
    "adjudication": "行政裁决",
    "compensation": "行政补偿",
    "reward": "行政奖励",
    "inspection": "行政监督检查",
}
# what each kind of rule decides, as messages to users name it
RULE_KIND_LABELS: dict[str, str] = {
    "publication_deadline": "公示时限（决定后几个工作日内公示）",
    "penalty_classification": "失信程度认定",
    "penalty_publication": "公示期限",
    "code_quality": "重错码率目标",
}


class Pack(BaseModel):
    """The header of a pack file; its rules are validated one by one by the loader."""

    model_config = ConfigDict(extra="forbid")

    pack: str = Field(pattern=RULE_ID_PATTERN)
    jurisdiction: str
    title: str = Field(min_length=1)
    description: str | None = None
    rules: list[dict[str, Any]] = Field(min_length=1)

    @field_validator("jurisdiction", mode="before")
    @classmethod
    def _jurisdiction(cls, value: Any) -> str:
        return check_jurisdiction(str(value))
