"""Shards: several operator Deployments, each owning a disjoint set of objects.

An object belongs to the shard named by its ``lakeserve.dev/shard`` label ("0" … "N-1"). Shard 0
also takes every object without the label or with a value no shard has, so no object is left
out: its label selector is ``lakeserve.dev/shard notin (1, …, N-1)``, the others'
``lakeserve.dev/shard=<index>``. The selectors go to the API server with each list and watch, so a
shard never even receives the others' objects. Relabelling an object moves it: the old shard's
watch reports it gone, the new one's reports it added.
"""

from __future__ import annotations

SHARD_LABEL = "lakeserve.dev/shard"


def label_selector(index: int, count: int) -> str | None:
    """The label selector of shard ``index`` of ``count``; None when there is one shard."""
    if count <= 1:
        return None
    if index == 0:
        return f"{SHARD_LABEL} notin ({','.join(str(i) for i in range(1, count))})"
    return f"{SHARD_LABEL}={index}"
