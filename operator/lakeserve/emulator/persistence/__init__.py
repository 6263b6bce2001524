"""Keeping the local workspace's state across restarts (``lakeserve emulator --data-dir``)."""

from lakeserve.emulator.persistence.codec import TRANSIENT, StateFormatError
from lakeserve.emulator.persistence.store import STATE_FILE, Persistence, Persistent

__all__ = ["STATE_FILE", "TRANSIENT", "Persistence", "Persistent", "StateFormatError"]
