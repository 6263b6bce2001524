"""Counting Kubernetes writes with the API server's audit log.

The policy records, at Metadata level and once per request (when the response is complete),
every write to the lakeserve and benchmark kinds and every Event written; nothing else.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
from pathlib import Path

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")

POLICY = f"""\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [{", ".join(WRITE_VERBS)}]
  resources:
  - group: lakeserve.dev
  - group: bench.lakeserve.dev
  - group: ""
    resources: [events]
  - group: events.k8s.io
- level: None
"""


def write_policy(directory: Path) -> Path:
    path = directory / "audit-policy.yaml"
    path.write_text(POLICY)
    return path


class AuditLog:
    """Reads what the API server appended since the last ``mark``."""

    def __init__(self, path: Path):
        self.path = path
        self._offset = 0

    def mark(self) -> None:
        self._offset = self.path.stat().st_size if self.path.exists() else 0

    def writes(self, namespaces: Collection[str]) -> Counter[str]:
        """Writes in ``namespaces`` since the mark, by "verb resource[/subresource]"; refused
        requests (status >= 400) are counted under "refused" too."""
        counts: Counter[str] = Counter()
        for entry in self._entries():
            ref = entry.get("objectRef") or {}
            if ref.get("namespace") not in namespaces or entry.get("verb") not in WRITE_VERBS:
                continue
            what = ref.get("resource", "?") + (f"/{ref['subresource']}"
                                               if ref.get("subresource") else "")
            counts[f"{entry['verb']} {what}"] += 1
            if (entry.get("responseStatus") or {}).get("code", 200) >= 400:
                counts["refused"] += 1
        return counts

    def _entries(self):
        if not self.path.exists():
            return
        with self.path.open("rb") as log:
            log.seek(self._offset)
            for line in log:
                if line.strip():
                    yield json.loads(line)
