"""Load a playbook from its YAML files, validate it and report every mistake at once.

Layout: a main `playbook.yaml`; its `directory:` and `templates:` keys either hold the data
inline or name a YAML file (people, teams, rotations) and a folder of template files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from playbooks.checks import Known, cross_check
from playbooks.errors import PlaybookInvalid, PlaybookIssue
from playbooks.locate import Locator
from playbooks.schema import Playbook
from playbooks.validation import salvage, schema_issues
from playbooks.yamlsource import SourceFile, read_yaml

PLAYBOOK_FILE = "playbook.yaml"
_DIRECTORY_KEYS = ("people", "teams", "rotations")
_KEYED_SECTIONS: tuple[tuple[str, ...], ...] = (
    ("services",),
    ("rotations",),
    ("escalation_policies",),
    ("roles",),
    ("business_functions",),
    ("audiences",),
    ("templates",),
    ("directory", "people"),
    ("directory", "teams"),
)


def default_playbook_path() -> Path:
    """The bundled Acme playbook directory."""
    return Path(__file__).resolve().parent / "acme"


def load_playbook(path: Path | str | None = None) -> Playbook:
    """Load and validate a playbook directory (or its playbook.yaml); raise PlaybookInvalid."""
    main_file = _main_file(Path(path) if path is not None else default_playbook_path())
    assembly = _Assembly(main_file)
    raw = assembly.raw
    raw["content_hash"] = assembly.content_hash()
    issues = assembly.issues
    if issues and assembly.unreadable:
        # Half-parsed files would only produce a cascade of misleading follow-on errors.
        raise PlaybookInvalid(_ordered(issues, assembly.file_order))
    known = Known.from_raw(raw, assembly.unreadable_kinds)
    try:
        playbook = Playbook.model_validate(raw)
    except ValidationError as exc:
        issues.extend(schema_issues(exc, assembly.locator, assembly.injected_ids))
        issues.extend(cross_check(salvage(raw), known, assembly.locator))
    else:
        issues.extend(cross_check(playbook, known, assembly.locator))
    if issues:
        raise PlaybookInvalid(_ordered(issues, assembly.file_order))
    return playbook


def _main_file(path: Path) -> Path:
    if path.is_dir():
        return path / PLAYBOOK_FILE
    return path


def _ordered(issues: list[PlaybookIssue], file_order: list[str]) -> list[PlaybookIssue]:
    unique = list(dict.fromkeys(issues))
    rank = {name: index for index, name in enumerate(file_order)}
    return sorted(unique, key=lambda i: (rank.get(i.file, len(rank)), i.line or 0, i.path))


class _Assembly:
    """The playbook's files read and merged into one raw mapping, with their origins."""

    def __init__(self, main_file: Path) -> None:
        self.root = main_file.parent
        self.issues: list[PlaybookIssue] = []
        self.files: list[Path] = []
        self.file_order: list[str] = []
        self.unreadable = False
        self.injected_ids: set[tuple[str, ...]] = set()
        self.unreadable_kinds: set[str] = set()
        if not main_file.is_file():
            raise PlaybookInvalid(
                [
                    PlaybookIssue(
                        str(main_file),
                        None,
                        "",
                        "no playbook here: expected a playbook.yaml file "
                        "or a directory that contains one",
                    )
                ]
            )
        main = self._read(main_file)
        self.locator = Locator(main)
        self.raw: dict[str, Any] = {}
        if isinstance(main.data, dict):
            self.raw = dict(main.data)
        elif main.data is not None:
            self.issues.append(PlaybookIssue(main.name, 1, "", "the playbook must be a mapping"))
        self._include_directory()
        self._include_templates()
        self._inject_ids()

    def _read(self, file: Path) -> SourceFile:
        self.files.append(file)
        inside = file.is_relative_to(self.root)
        name = file.relative_to(self.root).as_posix() if inside else str(file)
        self.file_order.append(name)
        source = read_yaml(file, name, self.issues)
        if source.data is None and file.stat().st_size and not source.lines:
            self.unreadable = True
        return source

    def content_hash(self) -> str:
        """sha256 over every file read, in sorted relative-path order."""
        digest = hashlib.sha256()
        for file in sorted(self.files, key=lambda f: f.relative_to(self.root).as_posix()):
            data = file.read_bytes()
            digest.update(file.relative_to(self.root).as_posix().encode())
            digest.update(b"\0" + len(data).to_bytes(8, "big"))
            digest.update(data)
        return digest.hexdigest()

    def _include_directory(self) -> None:
        reference = self.raw.get("directory")
        if not isinstance(reference, str):
            return
        file = self.root / reference
        if not file.is_file():
            self.issues.append(
                self.locator.issue(
                    ("directory",), f"the directory file {reference!r} does not exist"
                )
            )
            del self.raw["directory"]
            self.unreadable_kinds.update(("person", "team", "rotation"))
            return
        source = self._read(file)
        data = source.data if isinstance(source.data, dict) else {}
        for key in data:
            if key not in _DIRECTORY_KEYS:
                self.issues.append(
                    PlaybookIssue(
                        source.name,
                        source.line_of((key,)),
                        key,
                        "is not a known field of a directory file (people, teams, rotations)",
                    )
                )
        self.raw["directory"] = {k: data[k] for k in ("people", "teams") if k in data}
        self.locator.add(("directory",), source)
        if "rotations" in data:
            if "rotations" in self.raw:
                self.issues.append(
                    self.locator.issue(
                        ("rotations",), f"rotations are defined here and in {source.name}; keep one"
                    )
                )
            self.raw["rotations"] = data["rotations"]
            self.locator.add(("rotations",), source, ("rotations",))

    def _include_templates(self) -> None:
        reference = self.raw.get("templates")
        if not isinstance(reference, str):
            return
        folder = self.root / reference
        if not folder.is_dir():
            self.issues.append(
                self.locator.issue(
                    ("templates",), f"the templates folder {reference!r} does not exist"
                )
            )
            del self.raw["templates"]
            self.unreadable_kinds.add("template")
            return
        templates: dict[str, Any] = {}
        for file in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            source = self._read(file)
            if file.stem in templates:
                self.issues.append(
                    PlaybookIssue(
                        source.name, None, "", f"template id {file.stem!r} is defined by two files"
                    )
                )
                continue
            templates[file.stem] = source.data
            self.locator.add(("templates", file.stem), source)
        self.raw["templates"] = templates

    def _inject_ids(self) -> None:
        # Collections are keyed by id in YAML; the models carry the id too.
        for section in _KEYED_SECTIONS:
            entries: Any = self.raw
            for part in section:
                entries = entries.get(part) if isinstance(entries, dict) else None
            if not isinstance(entries, dict):
                continue
            for key, entry in entries.items():
                if not isinstance(entry, dict):
                    continue
                if "id" in entry and entry["id"] != key:
                    self.issues.append(
                        self.locator.issue(
                            (*section, key, "id"),
                            f"id {entry['id']!r} differs from its key {key!r}; "
                            "drop the id or make them match",
                        )
                    )
                if "id" not in entry:
                    self.injected_ids.add((*section, key, "id"))
                entries[key] = {**entry, "id": key}
