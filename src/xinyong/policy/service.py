"""Loading policy packs, looking rules up by kind, date and jurisdiction, and the rule helpers."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from xinyong.core.config import get_settings
from xinyong.core.errors import XinyongError
from xinyong.core.workdays import WorkdayCalendar, WorkingDate
from xinyong.policy.schemas import (
    RECORD_KIND_LABELS,
    RULE_KIND_LABELS,
    Pack,
    PenaltyClassificationParams,
    PenaltyPublicationParams,
    PublicationDeadlineParams,
    Rule,
    check_jurisdiction,
)

# Keys a rule inherits from its pack and may not set itself.
_PACK_KEYS = ("jurisdiction", "pack", "file")
# Separators between several penalty kinds written in one cell.
_KIND_SPLIT = re.compile(r"[、,，;；/|\s]+")


class PolicyNotFound(XinyongError):
    """No rule of the asked kind is in force for the date and jurisdiction."""

    status_code = 404
    code = "policy_not_found"


class PolicyInvalid(XinyongError):
    """A policy pack is malformed; ``problems`` lists every problem found, one per line."""

    status_code = 503  # the platform cannot decide anything until the packs are corrected
    code = "policy_invalid"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("策略包有误（policy packs are invalid）：\n" + "\n".join(self.problems))


@lru_cache(maxsize=4096)
def _chain(area_code: str) -> tuple[str, ...]:
    code = check_jurisdiction(area_code)
    if code == "CN":
        return ("CN",)
    chain = [code]
    for parent in (code[:4] + "00", code[:2] + "0000"):
        if parent != chain[-1]:
            chain.append(parent)
    chain.append("CN")
    return tuple(chain)


def jurisdiction_chain(area_code: str) -> list[str]:
    """From the most specific jurisdiction to the national one.

    "440402" -> ["440402", "440400", "440000", "CN"]; "CN" -> ["CN"].
    """
    try:
        return list(_chain(area_code))
    except ValueError as exc:
        raise XinyongError(f"无效的行政区划代码：{area_code!r}", code="invalid_area_code") from exc


def _overlaps(a: Rule, b: Rule) -> bool:
    if not set(a.applies_to) & set(b.applies_to):
        return False
    a_end = a.effective_to or dt.date.max
    b_end = b.effective_to or dt.date.max
    return a.effective_from <= b_end and b.effective_from <= a_end


def _where(rule: Rule) -> str:
    return f"{rule.file or rule.pack}: rule {rule.id}"


class PolicyBook:
    """All rules of all packs, indexed for lookup by kind, jurisdiction and date."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        problems: list[str] = []
        self._by_id: dict[str, Rule] = {}
        for rule in self.rules:
            if rule.id in self._by_id:
                problems.append(
                    f"{_where(rule)}: duplicate rule id (also in {self._by_id[rule.id].file})"
                )
            else:
                self._by_id[rule.id] = rule
        index: dict[tuple[str, str], list[Rule]] = {}
        for rule in self.rules:
            index.setdefault((rule.kind, rule.jurisdiction), []).append(rule)
        for group in index.values():
            group.sort(key=lambda r: (r.effective_from, r.id))
            for i, first in enumerate(group):
                for second in group[i + 1 :]:
                    if _overlaps(first, second):
                        problems.append(
                            f"{_where(second)}: effective dates overlap {_where(first)} "
                            f"(same kind {first.kind}, jurisdiction {first.jurisdiction}, "
                            f"applies_to {sorted(set(first.applies_to) & set(second.applies_to))})"
                        )
        if problems:
            raise PolicyInvalid(problems)
        self._index: dict[tuple[str, str], tuple[Rule, ...]] = {
            key: tuple(group) for key, group in index.items()
        }
        self._kinds: dict[str, tuple[str, ...]] = {}
        for rule in self.rules:
            values = set(self._kinds.get(rule.kind, ())) | set(rule.applies_to)
            self._kinds[rule.kind] = tuple(sorted(values))
        self._cache: dict[tuple[str, dt.date, str, str | None], Rule] = {}

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path) -> PolicyBook:
        """Load and validate every ``*.yaml``/``*.yml`` pack under ``directory`` (recursively)."""
        directory = Path(directory)
        if not directory.is_dir():
            raise PolicyInvalid([f"{directory}: policy directory does not exist"])
        files = sorted(
            p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
        )
        rules: list[Rule] = []
        problems: list[str] = []
        packs: dict[str, str] = {}
        for path in files:
            name = path.relative_to(directory).as_posix()
            rules.extend(_load_file(path, name, packs, problems))
        if problems:
            raise PolicyInvalid(problems)
        return cls(rules)

    # -- lookup ----------------------------------------------------------------------------

    def get(self, rule_id: str) -> Rule:
        """The rule with this id."""
        try:
            return self._by_id[rule_id]
        except KeyError:
            raise PolicyNotFound(f"规则“{rule_id}”不存在") from None

    def rule(
        self,
        kind: str,
        on: dt.date,
        jurisdiction: str = "CN",
        applies_to: str | None = None,
    ) -> Rule:
        """The rule of ``kind`` in force on ``on`` in the most specific jurisdiction having one."""
        key = (kind, on, jurisdiction, applies_to)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        for code in jurisdiction_chain(jurisdiction):
            matches = [
                r
                for r in self._index.get((kind, code), ())
                if r.is_effective(on) and (applies_to is None or applies_to in r.applies_to)
            ]
            if len(matches) > 1:
                ids = "、".join(r.id for r in matches)
                raise PolicyNotFound(
                    f"“{kind}”在{code}于{on}有多条规则（{ids}），请指定适用对象",
                    code="policy_ambiguous",
                )
            if matches:
                if len(self._cache) > 200_000:
                    self._cache.clear()
                self._cache[key] = matches[0]
                return matches[0]
        target = f"（适用于{RECORD_KIND_LABELS.get(applies_to, applies_to)}）" if applies_to else ""
        # the chain ends with the nation: neither the area nor any area above it has such a rule
        raise PolicyNotFound(f"全国没有 {on:%Y/%m/%d} 有效的{RULE_KIND_LABELS.get(kind, kind)}规则{target}")

    def rules_in_force(self, on: dt.date, jurisdiction: str = "CN") -> list[Rule]:
        """Every rule that decides something on ``on`` for ``jurisdiction``, by kind then id."""
        found: dict[str, Rule] = {}
        for kind, values in self._kinds.items():
            for value in values:
                try:
                    rule = self.rule(kind, on, jurisdiction, value)
                except PolicyNotFound:
                    continue
                found[rule.id] = rule
        return sorted(found.values(), key=lambda r: (r.kind, r.effective_from, r.id))

    def other_jurisdictions(self, on: dt.date, jurisdiction: str = "CN") -> list[str]:
        """The areas off ``jurisdiction``'s chain that have rules in force on ``on``. A record is
        decided by the rules of its deciding authority's area, so these decide their authorities'
        records although :meth:`rules_in_force` for ``jurisdiction`` does not list them."""
        chain = set(jurisdiction_chain(jurisdiction))
        return sorted({r.jurisdiction for r in self.rules if r.jurisdiction not in chain and r.is_effective(on)})

    def history(self, kind: str, jurisdiction: str | None = None) -> list[Rule]:
        """All versions of a kind, optionally only those on ``jurisdiction``'s chain."""
        chain = jurisdiction_chain(jurisdiction) if jurisdiction else None
        rules = [
            r for r in self.rules if r.kind == kind and (chain is None or r.jurisdiction in chain)
        ]
        # National rules first, then ever more specific ones; versions by date within each.
        order = {code: i for i, code in enumerate(reversed(chain or []))}
        return sorted(
            rules,
            key=lambda r: (
                order.get(r.jurisdiction, 0) if chain else int(r.jurisdiction != "CN"),
                r.jurisdiction,
                r.effective_from,
                r.id,
            ),
        )


class _TextDateLoader(yaml.SafeLoader):
    """A safe YAML loader that leaves dates as text, so validation names the rule and field."""


_TextDateLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _format_validation(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "(rule)"
        lines.append(f"{location}: {item['msg']}")
    return lines


def _load_file(path: Path, name: str, packs: dict[str, str], problems: list[str]) -> list[Rule]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDateLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"{name}: cannot read YAML ({exc})")
        return []
    try:
        pack = Pack.model_validate(data)
    except ValidationError as exc:
        problems.extend(f"{name}: {line}" for line in _format_validation(exc))
        return []
    if pack.pack in packs:
        problems.append(f"{name}: pack name {pack.pack!r} already used by {packs[pack.pack]}")
    packs[pack.pack] = name
    rules = []
    for position, raw in enumerate(pack.rules, start=1):
        rule_name = raw.get("id") if isinstance(raw.get("id"), str) else f"#{position}"
        clash = [key for key in _PACK_KEYS if key in raw]
        if clash:
            problems.append(
                f"{name}: rule {rule_name}: {', '.join(clash)} is set by the pack, not the rule"
            )
            continue
        try:
            rule = Rule.model_validate(
                {**raw, "jurisdiction": pack.jurisdiction, "pack": pack.pack, "file": name}
            )
        except ValidationError as exc:
            problems.extend(f"{name}: rule {rule_name}: {line}" for line in _format_validation(exc))
            continue
        rules.append(rule)
    return rules


@lru_cache
def get_policy_book() -> PolicyBook:
    """The policy book from ``settings.policy_dir`` (cached; see :func:`reset_policy_book`)."""
    return PolicyBook.load(get_settings().policy_dir)


def reset_policy_book() -> None:
    """Forget the cached policy book (after packs change, or in tests)."""
    get_policy_book.cache_clear()


# ---------------------------------------------------------------------------------------------
# Period arithmetic.


def add_months(day: dt.date, months: int) -> dt.date:
    """The corresponding day ``months`` later, clamped to the end of a shorter month.

    The start day itself is not counted (民法典 第二百零一条), so a period of N months from a
    decision on 2026-05-31 ends on 2026-08-31, and one from 2026-11-30 + 3 ends on 2027-02-28.
    """
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = _calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


# ---------------------------------------------------------------------------------------------
# Publication deadline (双公示).


@dataclass(frozen=True)
class Deadline:
    """The last day to publish a record, and the rule that set it."""

    date: WorkingDate
    rule: Rule

    def met_by(self, received: dt.date) -> bool:
        """Whether a record received on ``received`` (a date in China) arrived on time: on or
        before the deadline. Intake decides ``on_time`` with it, and so does a recomputed
        deadline (``records.service.recompute_deadlines``)."""
        return received <= self.date


def publication_deadline(
    book: PolicyBook,
    record_kind: str,
    decision_date: dt.date,
    jurisdiction: str,
    calendar: WorkdayCalendar,
) -> Deadline:
    """The publication deadline of a record decided on ``decision_date``."""
    rule = book.rule("publication_deadline", decision_date, jurisdiction, applies_to=record_kind)
    params: PublicationDeadlineParams = rule.typed_params
    return Deadline(date=calendar.add_working_days(decision_date, params.working_days), rule=rule)


# ---------------------------------------------------------------------------------------------
# Penalty classes (轻微 / 一般 / 严重).


@dataclass(frozen=True)
class Classification:
    """The class of a penalty, the rule that classed it and why (in Chinese)."""

    penalty_class: str
    rule: Rule
    reason: str


def _split_kinds(kinds: Sequence[str]) -> list[str]:
    result: list[str] = []
    for kind in kinds:
        for part in _KIND_SPLIT.split(kind or ""):
            if part and part not in result:
                result.append(part)
    return result


def _amount(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}"


def classify_penalty(
    book: PolicyBook,
    kinds: Sequence[str],
    fine_wan: Decimal | None,
    confiscated_wan: Decimal | None,
    declared: str | None,
    on: dt.date,
    jurisdiction: str,
    subject_type: str | None = None,
) -> Classification:
    """Class a penalty by the rule in force on ``on`` (normally the decision date).

    A class the department declared wins when the rule says so. Otherwise: any serious kind or
    amount makes it serious; only minor kinds (or a small fine with them) make it minor; anything
    else gets the default class. ``subject_type`` (e.g. 自然人) selects a per-type fine limit.
    """
    rule = book.rule("penalty_classification", on, jurisdiction, applies_to="penalty")
    params: PenaltyClassificationParams = rule.typed_params
    ignored = ""
    if declared and declared.strip():
        label = declared.strip()
        resolved = label if label in params.classes else params.declared_aliases.get(label)
        if resolved and params.declared_wins:
            return Classification(resolved, rule, f"处罚机关认定为{label}")
        if not resolved:
            ignored = f"（申报类别“{label}”无法识别，已忽略）"

    parts = _split_kinds(kinds)
    serious = params.serious
    if serious:
        for kind in parts:
            if any(word in kind for word in serious.kind_keywords):
                return Classification(serious.class_, rule, f"处罚类别含{kind}{ignored}")
        limit = serious.fine_wan_at_least
        if limit is not None and fine_wan is not None and fine_wan >= limit:
            reason = f"罚款金额{_amount(fine_wan)}万元，达到{_amount(limit)}万元{ignored}"
            return Classification(serious.class_, rule, reason)
        limit = serious.confiscated_wan_at_least
        if limit is not None and confiscated_wan is not None and confiscated_wan >= limit:
            reason = f"没收金额{_amount(confiscated_wan)}万元，达到{_amount(limit)}万元{ignored}"
            return Classification(serious.class_, rule, reason)

    minor = params.minor
    if minor and parts:
        listed = "、".join(parts)
        rest = [k for k in parts if not any(word in k for word in minor.only_kinds)]
        if not rest:
            return Classification(minor.class_, rule, f"处罚类别仅为{listed}{ignored}")
        fine_limit = minor.fine_wan_at_most.get(subject_type or "default")
        if fine_limit is None:
            fine_limit = minor.fine_wan_at_most.get("default")
        if (
            minor.fine_kind
            and fine_limit is not None
            and all(minor.fine_kind in k for k in rest)
            and fine_wan is not None
            and fine_wan <= fine_limit
            and not confiscated_wan
        ):
            reason = (
                f"处罚类别仅为{listed}，罚款{_amount(fine_wan)}万元"
                f"未超过{_amount(fine_limit)}万元{ignored}"
            )
            return Classification(minor.class_, rule, reason)

    reason = f"未达到其他类别的认定条件，按{params.default_class}处理{ignored}"
    return Classification(params.default_class, rule, reason)


# ---------------------------------------------------------------------------------------------
# Publication window of a penalty.


@dataclass(frozen=True)
class PublicationWindow:
    """Whether a penalty is published by default, when repair may end it, when it must end.

    ``min_end`` is the end of the minimum period (repair possible after it); publication
    continues through ``max_end`` inclusive. Both count from the decision date.
    """

    published: bool
    min_end: dt.date
    max_end: dt.date
    rule: Rule

    def shown_on(self, day: dt.date) -> bool:
        """Whether the penalty is shown on ``day`` (before any repair or objection)."""
        return self.published and day <= self.max_end


def publication_window(
    book: PolicyBook,
    penalty_class: str,
    decision_date: dt.date,
    jurisdiction: str,
    on: dt.date | None = None,
) -> PublicationWindow:
    """The publication window of a penalty of ``penalty_class``.

    The rule is the one in force on ``on``, by default the decision date.
    """
    rule = book.rule("penalty_publication", on or decision_date, jurisdiction, applies_to="penalty")
    params: PenaltyPublicationParams = rule.typed_params
    period: Any = params.classes.get(penalty_class)
    if period is None:
        known = "、".join(params.classes)
        raise PolicyNotFound(
            f"规则{rule.id}没有处罚类别“{penalty_class}”的公示期（已定义：{known}）"
        )
    return PublicationWindow(
        published=period.published,
        min_end=add_months(decision_date, period.min_months),
        max_end=add_months(decision_date, period.max_months),
        rule=rule,
    )


@dataclass(frozen=True)
class PenaltyDecision:
    """What the policy decides about one penalty: its class and its publication.

    ``declared_end_refused`` is the 公示截止期 a department gave outside the class's period (then
    ``end`` is the period's maximum), for the caller to warn about; ``no_period``: the class is
    published for no time at all (轻微 before Order 36), so any declared end is refused.
    """

    classification: Classification
    window: PublicationWindow
    published: bool
    end: dt.date
    declared_end_refused: dt.date | None = None
    no_period: bool = False


def decide_penalty(
    book: PolicyBook,
    *,
    kinds: Sequence[str],
    fine_wan: Decimal | None,
    confiscated_wan: Decimal | None,
    declared_class: str | None,
    declared_end: dt.date | None,
    revoked: bool,
    decision_date: dt.date,
    jurisdiction: str,
    subject_type: str | None,
    open_ended: dt.date,
    window: Callable[[str, dt.date, str], PublicationWindow] | None = None,
) -> PenaltyDecision:
    """Class a penalty and decide its publication, as intake does and as re-classification
    repeats for stored penalties: the class by the rule in force on the decision date (for the
    party's kind); the window of that class; a penalty revoked (2016 当前状态 撤销) is not
    published; a declared 公示截止期 inside the class's period is used (it publishes a class that
    is published only where the department finds it necessary: 轻微 under Order 36, at most 3
    months), and one outside it (other than the open-ended date) is refused — so is any for a
    class with no period (轻微 before Order 36). ``window`` may be a caching lookup."""
    classification = classify_penalty(book, kinds, fine_wan, confiscated_wan, declared_class, decision_date,
                                      jurisdiction, subject_type=subject_type)
    found = (window or (lambda c, d, j: publication_window(book, c, d, j)))(
        classification.penalty_class, decision_date, jurisdiction)
    published, end, refused = found.published, found.max_end, None
    no_period = found.max_end <= decision_date
    if revoked:
        published = False
    elif declared_end is not None:
        if found.min_end <= declared_end <= found.max_end and not no_period:
            end, published = declared_end, True
        elif declared_end != open_ended:
            refused = declared_end
    return PenaltyDecision(classification, found, published, end, refused, no_period)
