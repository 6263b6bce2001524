"""The pinned control-plane versions and the link flags that stamp them into the binaries."""

from __future__ import annotations

import re

KUBERNETES_VERSION = "v1.36.3"
ETCD_VERSION = "v3.6.16"

_SEMVER = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")

# Both packages hold the version a Kubernetes binary reports; client-go's copy feeds User-Agent.
_KUBERNETES_VERSION_PACKAGES = ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")


def _parse(version: str) -> tuple[int, int, int]:
    match = _SEMVER.match(version)
    if not match:
        raise ValueError(f"not a release version like v1.36.3: {version!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def staging_version(kubernetes_version: str) -> str:
    """The tag of the k8s.io/* staging modules (k8s.io/api, …) released with Kubernetes v1.X.Y.

    They are published as v0.X.Y, while k8s.io/kubernetes itself refers to them as v0.0.0 plus a
    replace into its own ./staging tree, which a module outside that tree cannot use.
    """
    major, minor, patch = _parse(kubernetes_version)
    if major != 1:
        raise ValueError(f"staging tags are known for Kubernetes v1.x only: {kubernetes_version}")
    return f"v0.{minor}.{patch}"


def kubernetes_ldflags(kubernetes_version: str) -> str:
    """Go link flags for Kubernetes binaries built from the module proxy.

    Without them the binaries report ``v0.0.0-master+$Format:%H$`` (the placeholder that only a
    ``git archive`` fills in), which ``kubectl version`` and version-skew checks cannot parse.
    ``-s -w`` drop debug symbols: the binaries are ~40% smaller and nobody debugs them here.
    """
    major, minor, _ = _parse(kubernetes_version)
    values = {
        "gitVersion": kubernetes_version,
        "gitMajor": str(major),
        "gitMinor": str(minor),
        "gitTreeState": "clean",
    }
    stamps = [f"-X {package}.{name}={value}"
              for package in _KUBERNETES_VERSION_PACKAGES for name, value in values.items()]
    return " ".join(["-s", "-w", *stamps])


def etcd_ldflags() -> str:
    """etcd keeps its version in a constant, so only the symbol tables are dropped."""
    return "-s -w"
