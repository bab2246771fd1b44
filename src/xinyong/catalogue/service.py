"""Loading the catalogue from its data files, and resolving file headers and coded values."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from xinyong.catalogue.schemas import (
    FIELD_TYPES,
    CodeTable,
    CodeValue,
    Disclosure,
    Field,
    Item,
    Layout,
)
from xinyong.core.errors import NotFound

DATA_DIR = Path(__file__).with_name("data")


def normalize_header(raw: str) -> str:
    """Header key for matching: full-width folded, brackets unified, all spaces removed."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = text.replace("【", "(").replace("】", ")").replace("〔", "(").replace("〕", ")")
    return "".join(ch for ch in text if not ch.isspace() and ch not in "\ufeff\u200b*").strip()


def normalize_code_value(raw: str) -> str:
    """Key for matching a coded value: full-width folded, spaces removed."""
    text = unicodedata.normalize("NFKC", raw)
    return "".join(ch for ch in text if not ch.isspace())


class Catalogue:
    """All catalogue items and code tables, read from data files."""

    def __init__(
        self,
        items: dict[str, Item],
        code_tables: dict[str, CodeTable],
        units: dict[str, Decimal] | None = None,
    ) -> None:
        self.items = items
        self.code_tables = code_tables
        self.units = units or {}

    def item(self, key: str) -> Item:
        try:
            return self.items[key]
        except KeyError:
            raise NotFound(f"目录中没有信息项 {key}") from None

    def code_table(self, name: str) -> CodeTable:
        return self.code_tables[name]

    def header_map(self, item: Item, layout: str) -> dict[str, str]:
        """Normalised header -> field key for one layout of an item."""
        mapping: dict[str, str] = {}
        for f in item.fields:
            for header in (f.label, *f.aliases, *f.unit_headers):
                mapping.setdefault(normalize_header(header), f.key)
        if layout in item.layouts:
            for header, key in item.layouts[layout].headers.items():
                mapping[normalize_header(header)] = key
        return mapping

    def column_unit(self, f: Field, header: str) -> str | None:
        """The unit of the amounts in a column of field ``f`` headed ``header`` as written."""
        wanted = normalize_header(header)
        for alias, unit in f.unit_headers.items():
            if normalize_header(alias) == wanted:
                return unit
        return f.unit

    def convert(self, amount: Decimal, from_unit: str, to_unit: str) -> Decimal:
        """An amount in ``from_unit`` expressed in ``to_unit`` (units of the catalogue's table)."""
        if from_unit == to_unit:
            return amount
        return amount * self.units[from_unit] / self.units[to_unit]

    def detect_layout(self, item: Item, headers: list[str]) -> str:
        """The layout whose marker columns the file carries ("current" when none match)."""
        present = {normalize_header(h) for h in headers}
        best, best_score = "current", 0
        for name, layout in item.layouts.items():
            score = sum(1 for m in layout.markers if normalize_header(m) in present)
            if layout.markers and score >= 2 and score > best_score:
                best, best_score = name, score
        return best


def _load_code_tables(raw: dict[str, Any]) -> dict[str, CodeTable]:
    tables = {}
    for name, spec in raw.items():
        values = tuple(
            CodeValue(
                value=str(v["value"]),
                label=str(v.get("label", v["value"])),
                aliases=tuple(str(a) for a in v.get("aliases") or ()),
            )
            for v in spec["values"]
        )
        lookup: dict[str, str] = {}
        for v in values:
            for spelling in (v.value, v.label, *v.aliases):
                lookup[normalize_code_value(spelling)] = v.value
        hints = {normalize_code_value(str(k)): str(v) for k, v in (spec.get("not_values") or {}).items()}
        if clash := set(hints) & set(lookup):
            raise ValueError(f"code table {name}: {sorted(clash)} both a value and a not_value")
        tables[name] = CodeTable(name=name, title=spec.get("title", name), values=values, lookup=lookup,
                                 hints=hints)
    return tables


def _flatten(fields: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in fields:
        if isinstance(entry, list):
            out.extend(_flatten(entry))
        else:
            out.append(entry)
    return out


def _load_units(raw: dict[str, Any]) -> dict[str, Decimal]:
    return {str(name): Decimal(str(value)) for name, value in (raw.get("units") or {}).items()}


def _load_items(raw: dict[str, Any], tables: dict[str, CodeTable]) -> dict[str, Item]:
    units = _load_units(raw)
    items = {}
    for key, spec in raw["items"].items():
        fields = []
        for f in _flatten(spec["fields"]):
            if f["type"] not in FIELD_TYPES:
                raise ValueError(f"catalogue item {key}: field {f['key']} has unknown type {f['type']}")
            if f.get("code_table") and f["code_table"] not in tables:
                raise ValueError(f"catalogue item {key}: unknown code table {f['code_table']}")
            fields.append(
                Field(
                    key=f["key"],
                    label=f["label"],
                    type=f["type"],
                    required=bool(f.get("required", False)),
                    code_table=f.get("code_table"),
                    disclosure=Disclosure(f.get("disclosure", "public")),
                    max_length=f.get("max_length"),
                    not_future=bool(f.get("not_future", False)),
                    open_ended=bool(f.get("open_ended", False)),
                    id_type_field=f.get("id_type_field"),
                    aliases=tuple(f.get("aliases") or ()),
                    unit=f.get("unit"),
                    unit_headers={str(h): str(u) for h, u in (f.get("unit_headers") or {}).items()},
                )
            )
            for unit in filter(None, (fields[-1].unit, *fields[-1].unit_headers.values())):
                if unit not in units:
                    raise ValueError(f"catalogue item {key}: field {f['key']} has unknown unit {unit}")
        keys = [f.key for f in fields]
        if len(keys) != len(set(keys)):
            raise ValueError(f"catalogue item {key}: duplicate field keys")
        layouts = {}
        for name, lay in (spec.get("layouts") or {"current": {}}).items():
            layouts[str(name)] = Layout(
                name=str(name),
                title=(lay or {}).get("title", str(name)),
                markers=tuple((lay or {}).get("markers") or ()),
                headers=dict((lay or {}).get("headers") or {}),
                value_maps={k: {str(a): str(b) for a, b in v.items()}
                            for k, v in ((lay or {}).get("value_maps") or {}).items()},
                missing_ok=frozenset((lay or {}).get("missing_ok") or ()),
            )
        items[key] = Item(
            key=key,
            code=spec["code"],
            title=spec["title"],
            category=spec["category"],
            valence=spec["valence"],
            record_kind=spec["record_kind"],
            identity=tuple(spec["identity"]),
            decision_date_field=spec["decision_date_field"],
            fields=tuple(fields),
            layouts=layouts,
        )
    return items


def load_catalogue(directory: Path = DATA_DIR) -> Catalogue:
    """Read the catalogue's data files; a malformed file fails loudly at start-up."""
    with open(directory / "code_tables.yaml", encoding="utf-8") as fh:
        tables = _load_code_tables(yaml.safe_load(fh))
    with open(directory / "items.yaml", encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return Catalogue(_load_items(raw, tables), tables, _load_units(raw))


@lru_cache
def get_catalogue() -> Catalogue:
    return load_catalogue()
