"""Model versions whose deployment fails (a test knob).

Keyed by ``(entity_name, entity_version)``, valued by the deployment failure message.
"""

from __future__ import annotations

import threading

from databricks.sdk.service.serving import ServedEntityInput


class DeploymentFailures:
    def __init__(self) -> None:
        self._failing: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def add(self, entity_name: str, entity_version: str, message: str) -> None:
        with self._lock:
            self._failing[(entity_name, str(entity_version))] = message

    def remove(self, entity_name: str | None = None, entity_version: str | None = None) -> None:
        """Forget one failure, or all of them when no entity is named."""
        with self._lock:
            if entity_name is None:
                self._failing.clear()
            else:
                self._failing.pop((entity_name, str(entity_version)), None)

    def for_entities(self, entities: list[ServedEntityInput]) -> dict[str, str]:
        """Served entity name -> failure message, for the entities that will fail."""
        with self._lock:
            return {entity.name or "": self._failing[key] for entity in entities
                    if (key := (entity.entity_name or "", entity.entity_version or ""))
                    in self._failing}

    def snapshot(self) -> dict[tuple[str, str], str]:
        with self._lock:
            return dict(self._failing)

    def restore(self, failing: dict[tuple[str, str], str]) -> None:
        with self._lock:
            self._failing = dict(failing)

    def as_list(self) -> list[dict[str, str]]:
        with self._lock:
            return [{"entity_name": name, "entity_version": version, "message": message}
                    for (name, version), message in self._failing.items()]
