"""Every action the platform writes into the audit log has words for the log's readers."""

from __future__ import annotations

import ast
from pathlib import Path

from xinyong.core import audit

SOURCE = Path(audit.__file__).parents[1]


def _values(node: ast.expr, module: dict[str, object]) -> list[str]:
    """The strings an ``action=`` argument may be: literals, both sides of a conditional, and
    constants (``audit.READ_RECORD``, ``MERGE_ACTION``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _values(node.body, module) + _values(node.orelse, module)
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    value = module.get(name) if name else None
    if not isinstance(value, str):
        value = getattr(audit, name or "", None)
    assert isinstance(value, str), f"cannot tell which action {ast.unparse(node)} is"
    return [value]


def written_actions() -> dict[str, str]:
    """Every action passed to ``audit.record`` (or ``record`` inside core.audit) in the source,
    with where it is written."""
    found: dict[str, str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = {t.id: n.value.value for n in tree.body if isinstance(n, ast.Assign)
                  for t in n.targets if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if called != "record":
                continue
            for keyword in node.keywords:
                if keyword.arg == "action":
                    for action in _values(keyword.value, module):
                        found[action] = f"{path.relative_to(SOURCE)}:{node.lineno}"
    return found


def test_every_action_written_has_words():
    actions = written_actions()
    assert {"user.login", "batch.submit", "record.revoke", audit.READ_RECORD, audit.MERGE_ACTION,
            audit.READ_AUDIT_LOG} <= set(actions)  # the scan finds literals and constants alike
    missing = {action: where for action, where in actions.items() if action not in audit.ACTION_LABELS}
    assert not missing, f"actions written without words in core.audit.ACTION_LABELS: {missing}"
    assert all(audit.action_label(a) != a for a in actions)


def test_the_reads_a_subject_is_told_of_are_worded_for_the_log_s_readers_too():
    for action, what in audit.READ_LABELS.items():
        assert audit.action_label(action) == f"查阅{what}"
