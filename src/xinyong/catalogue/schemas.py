"""Catalogue shapes: code tables, fields, layouts and items."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Disclosure(StrEnum):
    """How far a field may travel (公开 / 政务共享 / 授权查询 / 不予共享)."""

    PUBLIC = "public"
    GOVERNMENT = "government"
    AUTHORISED = "authorised"
    RESTRICTED = "restricted"

    @property
    def label(self) -> str:
        return {
            "public": "公开",
            "government": "政务共享",
            "authorised": "授权查询",
            "restricted": "不予共享",
        }[self.value]


FIELD_TYPES = frozenset(
    {"text", "code", "codes", "date", "decimal", "uscc", "reg_no", "org_code", "personal_id"}
)


@dataclass(frozen=True)
class CodeValue:
    value: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class CodeTable:
    name: str
    title: str
    values: tuple[CodeValue, ...]
    # normalised spelling -> canonical value, built by the loader
    lookup: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    # normalised spelling of a value that is not in the table but often written -> what to do instead
    hints: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def canonical(self, raw: str) -> str | None:
        """The canonical value for ``raw`` (an accepted spelling), or None if not in the table."""
        return self.lookup.get(raw)

    def hint(self, raw: str) -> str | None:
        """Advice for a value departments often write that the table does not hold."""
        return self.hints.get(raw)

    @property
    def allowed(self) -> str:
        return "、".join(v.value if v.value == v.label else f"{v.value}（{v.label}）" for v in self.values)


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    type: str
    required: bool = False
    code_table: str | None = None
    disclosure: Disclosure = Disclosure.PUBLIC
    max_length: int | None = None
    not_future: bool = False
    open_ended: bool = False
    id_type_field: str | None = None
    aliases: tuple[str, ...] = ()
    # decimal fields: the unit values are stored in, and other headers that bring another unit
    unit: str | None = None
    unit_headers: dict[str, str] = field(default_factory=dict, compare=False)
    legacy: bool = False  # a column only older layouts have


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    markers: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    missing_ok: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Item:
    key: str
    code: str
    title: str
    category: str
    valence: str
    record_kind: str
    identity: tuple[str, ...]
    decision_date_field: str
    fields: tuple[Field, ...]
    layouts: dict[str, Layout]

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @property
    def template_fields(self) -> tuple[Field, ...]:
        """The columns of the current layout, in the order of the 双公示 template."""
        return tuple(f for f in self.fields if not f.legacy)

    @property
    def field_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)
