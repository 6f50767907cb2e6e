"""Reads YAML into plain Python while remembering the line of every value.

Built on ruamel's node graph rather than its loader so that duplicate keys are reported (with
both lines) instead of silently overwritten or stopping at the first one.

Bounded: the node graph shares a YAML alias's target instead of copying it, so a few lines of
nested aliases (a "billion laughs") compose quickly but would expand to billions of values.
Expansion stops at ``MAX_VALUES``, far beyond any menu, and the file is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# Where a value sits in the file: the keys and list indexes from the root, e.g. ("nodes", "main").
YamlPath = tuple[str | int, ...]

_TRUE = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"}
# The shipped menu holds about 300 values; an alias used many times counts every time.
MAX_VALUES = 20_000


class _TooManyValues(Exception):
    pass


@dataclass
class Source:
    data: object
    lines: dict[YamlPath, int] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)
    values_left: int = MAX_VALUES

    def line_of(self, path: YamlPath) -> int:
        """Line of ``path``, or of its closest ancestor that has one."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)


def read_yaml(text: str) -> Source:
    source = Source(data=None)
    try:
        root = YAML(typ="safe", pure=True).compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        source.problems.append((line, f"invalid YAML: {exc.problem or exc.context}"))
        return source
    except YAMLError as exc:
        source.problems.append((1, f"invalid YAML: {exc}"))
        return source
    if root is None:
        source.problems.append((1, "the file is empty"))
        return source
    source.lines[()] = root.start_mark.line + 1
    try:
        source.data = _convert(root, (), source)
    except _TooManyValues as exc:
        source.data = None
        source.problems.append((int(str(exc)), (
            f"the file expands to more than {MAX_VALUES} values (YAML aliases used over and"
            " over?)")))
    return source


def _convert(node: Node, path: YamlPath, source: Source) -> object:
    source.values_left -= 1
    if source.values_left < 0:
        raise _TooManyValues(node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key is None or isinstance(key, (dict, list)):
                source.problems.append((line, "keys must be plain values"))
                continue
            # Option keys are often written unquoted (7: cadastro); they are still names.
            name = str(key).lower() if isinstance(key, bool) else str(key)
            child = (*path, name)
            if name in result:
                first = source.lines[child]
                source.problems.append((line, f"duplicate key '{name}' (first at line {first})"))
                continue
            source.lines[child] = line
            result[name] = _convert(value_node, child, source)
        return result
    if isinstance(node, SequenceNode):
        items: list[object] = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            source.lines[child] = item.start_mark.line + 1
            items.append(_convert(item, child, source))
        return items
    assert isinstance(node, ScalarNode)
    return _scalar(node)


def _scalar(node: ScalarNode) -> object:
    tag = str(node.tag)
    value: str = node.value
    if node.style in ("'", '"', "|", ">"):
        return value
    if tag.endswith(":null"):
        return None
    if tag.endswith(":bool"):
        return value in _TRUE
    if tag.endswith(":int"):
        try:
            # Keep leading zeros of things like "0800" as text: they are not quantities.
            return int(value, 0) if not (value.startswith("0") and len(value) > 1) else value
        except ValueError:
            return value
    if tag.endswith(":float"):
        try:
            return float(value)
        except ValueError:
            return value
    return value
