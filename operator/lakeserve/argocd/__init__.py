"""Argo CD health checks for the lakeserve kinds, generated from one Lua template.

Argo CD takes one self-contained script per kind (``resource.customizations.health.<group>_<Kind>``
in ``argocd-cm``), so the shipped scripts in ``charts/lakeserve/health/`` repeat the shared logic;
it lives once, in ``health.lua``, and each kind adds only how its Healthy message reads
(``<kind>_detail.lua``). ``lakeserve argocd-health`` writes the scripts; a test keeps them current.
"""

from __future__ import annotations

from importlib import resources

from lakeserve.api import KINDS

_HERE = resources.files(__package__)
# Kinds that share another kind's Healthy message.
_DETAIL_OF = {"ClusterWorkspace": "Workspace"}


def render(kind: str) -> str:
    """The complete health script of one kind."""
    template = (_HERE / "health.lua").read_text()
    detail = (_HERE / f"{_DETAIL_OF.get(kind, kind).lower()}_detail.lua").read_text()
    return template.replace("{{KIND}}", kind).replace("{{DETAIL}}\n", detail)


def render_all() -> dict[str, str]:
    """File name -> script, for every kind."""
    return {f"{info.kind.lower()}.lua": render(info.kind) for info in KINDS}
