"""Reading k8s.io/kubernetes' go.mod: which modules it takes from its own staging tree."""

from __future__ import annotations

import re

# One replace entry, inside a ``replace ( … )`` block or as a one-line ``replace`` directive,
# whose target is a directory under ./staging — e.g. ``k8s.io/api => ./staging/src/k8s.io/api``.
_STAGING_REPLACE = re.compile(
    r"^\s*(?:replace\s+)?(?P<module>k8s\.io/[A-Za-z0-9._-]+)(?:\s+v\S+)?\s*=>\s*\./staging/",
    re.MULTILINE,
)


def _strip_comments(go_mod_text: str) -> str:
    return "\n".join(line.split("//", 1)[0] for line in go_mod_text.splitlines())


def staging_modules(go_mod_text: str) -> list[str]:
    """The k8s.io modules that k8s.io/kubernetes replaces with directories of its staging tree.

    Those replaces only work inside the kubernetes repository; a module that depends on
    k8s.io/kubernetes must point each of them at the published version instead.
    """
    found = {match["module"] for match in _STAGING_REPLACE.finditer(_strip_comments(go_mod_text))}
    return sorted(found)


def replace_flags(modules: list[str], version: str) -> list[str]:
    """``go mod edit`` arguments pinning each module to its published ``version``."""
    return [f"-replace={module}={module}@{version}" for module in modules]
