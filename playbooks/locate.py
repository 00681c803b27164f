"""Map a path in the assembled playbook back to the file, line and path the user wrote."""

from __future__ import annotations

from dataclasses import dataclass, field

from playbooks.errors import PlaybookIssue
from playbooks.yamlsource import PathKey, SourceFile, format_path


@dataclass
class Origin:
    """Data under `model_prefix` in the playbook came from `source` under `file_prefix`."""

    model_prefix: PathKey
    source: SourceFile
    file_prefix: PathKey


@dataclass
class Locator:
    """Knows which file each part of the assembled playbook came from."""

    main: SourceFile
    origins: list[Origin] = field(default_factory=list)

    def add(self, model_prefix: PathKey, source: SourceFile, file_prefix: PathKey = ()) -> None:
        """Record that `model_prefix` was read from `source` at `file_prefix`."""
        self.origins.append(Origin(model_prefix, source, file_prefix))
        self.origins.sort(key=lambda origin: len(origin.model_prefix), reverse=True)

    def issue(self, model_path: PathKey, reason: str) -> PlaybookIssue:
        """An issue about `model_path`, pointing at the file and line it was written on."""
        source, file_path = self.main, model_path
        for origin in self.origins:
            if model_path[: len(origin.model_prefix)] == origin.model_prefix:
                source = origin.source
                file_path = origin.file_prefix + model_path[len(origin.model_prefix) :]
                break
        return PlaybookIssue(source.name, source.line_of(file_path), format_path(file_path), reason)
