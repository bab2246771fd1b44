"""Catalogue shapes: code tables, fields, layouts and items."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel
from pydantic import Field as PydField


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
    publish: bool = True  # a status value with False: records carrying it are not published


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
    standard_code: str | None = None  # 字段代码 of the 双公示 data standard (CF_XDR_MC…)
    # USCC fields: the registration authorities (first character of the code) whose codes it takes
    registered_by: tuple[str, ...] = ()
    # amount fields: the values of the codes field (处罚类别) such an amount belongs with
    amount_of: tuple[str, ...] = ()
    # an end-date field: headers of one column that holds the whole period (许可有效期 “2024/01/01至
    # 2029/12/31”), and the field its first date goes to
    period_headers: tuple[str, ...] = ()
    period_start: str | None = None
    # a penalty's class or publication is decided from the field: a correction that keeps the
    # record's value of it (its file has no such column) is classed again, and says so per row
    decides_class: bool = False
    # amount fields: an amount at or above this, read in the field's unit from a column whose name
    # gives no unit (a bare 罚款金额), is warned — most likely 元 written in a 万元 column
    doubtful_at: Decimal | None = None


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    markers: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    # values a file of this layout cannot mean one way only: field → value → what it means where
    ambiguous_values: dict[str, dict[str, str]] = field(default_factory=dict)
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
    # the columns a department's template fills in ahead, down rows no record is typed in yet: a
    # row with nothing in the catalogue's other columns is an unused template row, not a record
    template_prefilled: frozenset[str] = frozenset()
    # the fields that describe the party (name, codes, legal representative, document): a
    # correction that moves a record to another party keeps none of the former party's
    party_fields: frozenset[str] = frozenset()

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


# -- the catalogue over HTTP ------------------------------------------------------------------
# Pydantic shapes of GET /api/v1/catalogue: what a department system needs to build its files.

class CodeValueOut(BaseModel):
    value: str = PydField(description="写入文件的值")
    label: str = PydField(description="含义")
    aliases: list[str] = PydField(description="也接受的写法")


class CodeTableOut(BaseModel):
    name: str
    title: str
    values: list[CodeValueOut]


class FieldOut(BaseModel):
    key: str = PydField(description="字段键（JSON Lines 文件的键可用字段键，也可用列名）")
    label: str = PydField(description="现行双公示格式的列名")
    type: str = PydField(description="text、code、codes、date、decimal、uscc、reg_no、org_code、personal_id")
    required: bool
    code_table: str | None = None
    disclosure: str = PydField(description="public 公开、government 政务共享、authorised 授权查询、restricted 不予共享")
    max_length: int | None = None
    unit: str | None = PydField(None, description="数值的保存单位")
    standard_code: str | None = PydField(
        None, description="双公示数据标准的字段代码（如 CF_XDR_MC），也可用作列名或键，不分大小写")
    aliases: list[str] = PydField(description="也接受的列名")
    unit_headers: dict[str, str] = PydField(description="带其他单位的列名及其单位（入库时换算）")
    registered_by: list[str] = PydField(
        default_factory=list, description="统一社会信用代码列：只接受这些登记管理部门代码（首位）的代码，如 1 机构编制")
    amount_of: list[str] = PydField(
        default_factory=list, description="金额列：该金额所属的处罚类别（处罚类别中没有时给出警告）")
    period_headers: list[str] = PydField(
        default_factory=list,
        description="截止日期列：整段期限写在一列时的列名（如“许可有效期”写“2024/01/01至2029/12/31”），"
                    "起始日期存入 period_start 所指字段")
    period_start: str | None = PydField(None, description="期限列的起始日期存入的字段键")


class ItemOut(BaseModel):
    key: str
    code: str
    title: str
    category: str
    valence: str = PydField(description="negative 失信、positive 守信、neutral 中性")
    identity: list[str] = PydField(
        description="识别一条记录的字段：决定文书号（括号、全角半角、空格不计）+ 决定机关统一社会信用代码；"
                    "同一决定有多个当事人时，每个当事人各为一条记录")
    fields: list[FieldOut] = PydField(description="现行格式的列，按模板顺序")
    layouts: list[str] = PydField(description="可识别的文件格式")


class CatalogueOut(BaseModel):
    items: list[ItemOut]
    code_tables: list[CodeTableOut]
