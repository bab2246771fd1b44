"""Rich rendering of policy rules for ``xinyong policy show``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.table import Table
from rich.text import Text

from xinyong.policy.schemas import RECORD_KIND_LABELS, Rule


def _months(n: int) -> str:
    if n and n % 12 == 0:
        return f"{n // 12}年"
    return f"{n}个月"


def rate_in_words(rate: Decimal | float) -> str:
    """A small share as Chinese officials write it: 0.0001 → 万分之一, 0.00025 → 万分之2.5,
    0.01 → 百分之一; shown to two decimals of its scale (0.000123 → 万分之1.23)."""
    value = Decimal(str(rate))
    if not value:
        return "0"
    for scale, word in ((100, "百分之"), (1000, "千分之"), (10000, "万分之")):
        scaled = value * scale
        if scaled >= 1 or scale == 10000:
            number = format(scaled.quantize(Decimal("0.01")).normalize(), "f")
            return f"{word}{_DIGITS.get(number, number)}"
    raise AssertionError("unreachable")


_DIGITS = {str(n): "零一二三四五六七八九十"[n] for n in range(1, 11)}


def format_params(rule: Rule) -> str:
    """A short Chinese summary of a rule's parameters."""
    params: dict[str, Any] = rule.params
    if rule.kind == "publication_deadline" and "working_days" in params:
        return f"{params['working_days']}个工作日"
    if rule.kind == "code_quality" and "rate_below" in params:
        return f"重错码率低于{rate_in_words(params['rate_below'])}"
    if rule.kind == "penalty_publication" and isinstance(params.get("classes"), dict):
        lines = []
        for name, period in params["classes"].items():
            span = f"{_months(period['min_months'])}–{_months(period['max_months'])}"
            lines.append(f"{name}：{'公示' if period['published'] else '不公示'} {span}")
        return "\n".join(lines)
    if rule.kind == "penalty_classification":
        lines = [f"默认：{params.get('default_class', '')}"]
        serious = params.get("serious") or {}
        if serious:
            words = "、".join(serious.get("kind_keywords", []))
            lines.append(f"{serious.get('class')}：{words}")
            if serious.get("fine_wan_at_least") is not None:
                lines.append(f"  罚款≥{serious['fine_wan_at_least']}万元")
        minor = params.get("minor") or {}
        if minor:
            lines.append(f"{minor.get('class')}：仅{'、'.join(minor.get('only_kinds', []))}")
            limits = minor.get("fine_wan_at_most")
            if isinstance(limits, dict) and limits:
                if list(limits) == ["default"]:
                    shown = f"{limits['default']}万元"
                else:  # 自然人 0.02万元、个体工商户 0.02万元、其他 0.3万元
                    named = sorted(limits.items(), key=lambda item: item[0] == "default")  # 其他 last
                    shown = "：" + "、".join(f"{'其他' if who == 'default' else who} {amount}万元"
                                            for who, amount in named)
                lines.append(f"  或{minor.get('fine_kind')}不超过{shown}")
        return "\n".join(lines)
    return "\n".join(f"{key}: {value}" for key, value in params.items())


def render_rules_table(rules: list[Rule]) -> Table:
    """Rules as a table: 规则, 适用, 管辖, 生效, 失效, 参数, 依据."""
    table = Table(show_lines=True)
    table.add_column("规则", overflow="fold")
    table.add_column("适用", overflow="fold")
    table.add_column("管辖")
    table.add_column("生效", no_wrap=True)
    table.add_column("失效", no_wrap=True)
    table.add_column("参数")
    table.add_column("依据", overflow="fold")
    for rule in rules:
        name = Text(rule.title)
        name.append(f"\n{rule.id}", style="dim")
        applies = "、".join(RECORD_KIND_LABELS.get(kind, kind) for kind in rule.applies_to)
        basis = Text(rule.source.citation())
        if not rule.verified:
            basis.append("\n（未核实）", style="yellow")
        table.add_row(
            name,
            applies,
            rule.jurisdiction,
            rule.effective_from.isoformat(),
            rule.effective_to.isoformat() if rule.effective_to else "—",
            format_params(rule),
            basis,
        )
    return table


def render_rules_blocks(rules: list[Rule]) -> list[Text]:
    """Rules as blocks of text: readable in a narrow terminal and whole when piped or logged."""
    blocks = []
    for rule in rules:
        block = Text()
        block.append(rule.title, style="bold")
        block.append(f"  [{rule.id}]\n", style="dim")
        applies = "、".join(RECORD_KIND_LABELS.get(kind, kind) for kind in rule.applies_to)
        span = f"{rule.effective_from} 至 {rule.effective_to}" if rule.effective_to else f"{rule.effective_from} 起"
        block.append(f"  适用：{applies}　管辖：{rule.jurisdiction}　有效期：{span}\n")
        params = format_params(rule).replace("\n", "\n          ")
        block.append(f"  参数：{params}\n")
        block.append(f"  依据：{rule.source.citation()}")
        if not rule.verified:
            block.append("（未核实）", style="yellow")
        block.append("\n")
        blocks.append(block)
    return blocks
