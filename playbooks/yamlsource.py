"""YAML reading that remembers where every value came from, so errors can name a line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from playbooks.errors import PlaybookIssue

PathKey = tuple[str | int, ...]

# libyaml's parser is an order of magnitude faster and keeps the same line marks.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TEXT_TAGS = {
    "tag:yaml.org,2002:timestamp",
}


@dataclass
class SourceFile:
    """One YAML file of a playbook: its data and the line of every key and list item."""

    name: str
    data: object
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int | None:
        """The line of `path`, or of its nearest ancestor that YAML gave a line for."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return None


def format_path(path: PathKey) -> str:
    """Write a data path the way users read it: `audiences.internal.channels[0]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def read_yaml(file: Path, name: str, issues: list[PlaybookIssue]) -> SourceFile:
    """Parse one YAML file; syntax errors and duplicate keys are appended to `issues`."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        issues.append(PlaybookIssue(name, None, "", f"cannot read the file ({exc})"))
        return SourceFile(name, None)
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        issues.append(PlaybookIssue(name, line, "", f"is not valid YAML: {exc.problem or exc}"))
        return SourceFile(name, None)
    source = SourceFile(name, None)
    if node is None:
        return source
    builder = _Builder(source, issues)
    source.lines[()] = node.start_mark.line + 1
    source.data = builder.convert(node, ())
    return source


class _Builder:
    def __init__(self, source: SourceFile, issues: list[PlaybookIssue]) -> None:
        self.source = source
        self.issues = issues
        self.constructor = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, path: PathKey) -> object:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.source.lines[(*path, index)] = item.start_mark.line + 1
                items.append(self.convert(item, (*path, index)))
            return items
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, object]:
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(
                    PlaybookIssue(
                        self.source.name, line, format_path(path), "keys must be plain text"
                    )
                )
                continue
            # Keys are ids and field names: keep them exactly as written (`on`, `01` stay text).
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                first = self.source.lines.get(child)
                self.issues.append(
                    PlaybookIssue(
                        self.source.name,
                        line,
                        format_path(child),
                        f"duplicate key {key!r} (first defined on line {first}); "
                        "ids must be unique",
                    )
                )
                continue
            self.source.lines[child] = line
            result[key] = self.convert(value_node, child)
        return result

    def _scalar(self, node: yaml.Node) -> object:
        value = str(node.value)
        # YAML 1.1 reads 09:00 as the base-60 number 540 and dates as date objects; a playbook
        # means the text, and pydantic parses clock times and ISO datetimes itself.
        if node.tag in _TEXT_TAGS or (":" in value and node.tag != "tag:yaml.org,2002:str"):
            return value
        return self.constructor.construct_object(node)
