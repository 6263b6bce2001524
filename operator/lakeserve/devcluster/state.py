"""state.json: what a running dev cluster consists of, so another process can find and stop it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lakeserve.devcluster.files import write_atomic
from lakeserve.devcluster.processes import ProcessRecord

STATE_FILE = "state.json"


@dataclass
class ClusterState:
    """Processes in start order, the ports they listen on and the versions they run.

    Saved after each process starts, so an interrupted start can still be stopped; ``ready``
    is set only once the whole cluster answered.
    """

    processes: list[ProcessRecord] = field(default_factory=list)
    ports: dict[str, int] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    server: str = ""
    kubeconfig: str = ""
    ready: bool = False

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ClusterState:
        data = json.loads(text)
        data["processes"] = [ProcessRecord(**record) for record in data.get("processes", [])]
        return cls(**data)


def load_state(directory: Path) -> ClusterState | None:
    path = directory / STATE_FILE
    return ClusterState.from_json(path.read_text()) if path.exists() else None


def save_state(directory: Path, state: ClusterState) -> None:
    write_atomic(directory / STATE_FILE, state.to_json())


def remove_state(directory: Path) -> None:
    (directory / STATE_FILE).unlink(missing_ok=True)
