"""Unity Catalog names are case-insensitive and stored in lower case.

"Unity Catalog stores all object names as lowercase" (Databricks SQL reference, "Names"), so a
spec's ``Main.Churn.Model`` is the workspace's ``main.churn.model``. Names are folded before they
are sent or compared: a mixed-case spec costs no write and no immutable-field stall.
"""

from __future__ import annotations


def fold(name: str | None) -> str | None:
    """A three-level Unity Catalog name in lower case; other names (a workspace registry model)
    unchanged."""
    if name is None or name.count(".") != 2:
        return name
    return name.lower()


def fold_part(part: str | None) -> str | None:
    """One part of a Unity Catalog name (a catalog, a schema, a table prefix)."""
    return part.lower() if part is not None else None
