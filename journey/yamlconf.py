"""Where in a YAML file a validation error points: the line of the deepest key along its location.

Shared by every configuration file we validate (playbooks, scorecards, CRM mappings), so that
`journey config check` names file and line the same way everywhere.
"""
from __future__ import annotations

from collections.abc import Sequence

import yaml

Loc = Sequence[str | int]


def compose(text: str) -> yaml.Node | None:
    """The node tree of a document, or None when it is not YAML (the caller reports that itself)."""
    try:
        return yaml.compose(text)
    except yaml.YAMLError:
        return None


def line_of(node: yaml.Node | None, loc: Loc) -> int | None:
    """1-based line of the deepest key (or list item) reachable along a pydantic error location."""
    if node is None:
        return None
    line = node.start_mark.line
    for part in loc:
        step = _child(node, part)
        if step is None:
            break
        line, node = step
    return line + 1


def _child(node: yaml.Node, part: str | int) -> tuple[int, yaml.Node] | None:
    """(line of the key or item, value node) one step down, or None."""
    if isinstance(node, yaml.MappingNode):
        return next(((key.start_mark.line, value) for key, value in node.value if key.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item.start_mark.line, item
    return None
