"""Go tools the chart's tests need, built once per version into the dev cluster's binary cache.

- ``helm``: ``go install helm.sh/helm/v3/cmd/helm@<version>`` works as is (helm's go.mod has no
  replace directives, unlike k8s.io/kubernetes), so no wrapper module is needed. The link flags
  are the ones helm's own Makefile sets: the release version, and the Kubernetes version that
  ``helm template`` and ``helm lint`` assume (without them both think they talk to Kubernetes 1.20).
- tools whose source is a module in this repository (``tools/kstatus``): built from that
  directory with its committed go.mod/go.sum (``-mod=readonly``), keyed by a hash of the source.

Same cache, lock and atomic rename as the control-plane binaries (see :mod:`.build`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from pathlib import Path

from lakeserve.devcluster.build import BuildError, _go, _go_command
from lakeserve.devcluster.cache import binary_path, cache_root, file_lock
from lakeserve.devcluster.progress import elapsed_since, say

HELM_VERSION = "v3.22.0"
HELM_MODULE = "helm.sh/helm/v3"
HELM_PACKAGE = "helm.sh/helm/v3/cmd/helm"

_CLIENT_GO = re.compile(r"^\s*k8s\.io/client-go\s+v0\.(?P<minor>\d+)\.\d+", re.MULTILINE)
# What a local tool's cache key covers: the module files and Go sources, nothing generated.
_SOURCE_SUFFIXES = (".go", ".mod", ".sum")


def helm_ldflags(version: str, helm_go_mod: str) -> str:
    """Link flags as helm's Makefile sets them, for ``version`` and helm's own go.mod text.

    The Kubernetes version helm assumes offline is 1.<minor of the k8s.io/client-go it uses>.
    """
    match = _CLIENT_GO.search(helm_go_mod)
    if not match:
        raise BuildError("helm's go.mod names no k8s.io/client-go v0.X.Y; cannot tell which "
                         "Kubernetes version to stamp into helm")
    minor = match["minor"]
    stamps = {
        "helm.sh/helm/v3/internal/version.version": version,
        "helm.sh/helm/v3/internal/version.gitTreeState": "clean",
        "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor": "1",
        "helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor": minor,
        "helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor": "1",
        "helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor": minor,
    }
    return " ".join(["-s", "-w", *(f"-X {name}={value}" for name, value in stamps.items())])


def ensure_helm(root: Path | None = None, version: str = HELM_VERSION) -> Path:
    """The cached helm binary, built under the build lock if it is missing (~3 min cold)."""
    root = root or cache_root()
    target = binary_path("helm", version, root)
    return _ensure(target, root, lambda: _build_helm(version, root, target))


def ensure_local_tool(name: str, source: Path, root: Path | None = None) -> Path:
    """The binary of the main package in ``source`` (a Go module of this repository), cached by
    a hash of its sources, so an edit rebuilds and an unchanged tree never does."""
    root = root or cache_root()
    target = binary_path(name, f"src-{source_hash(source)}", root)
    return _ensure(target, root, lambda: _build_local(name, source, root, target))


def source_hash(source: Path) -> str:
    digest = hashlib.sha256()
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix in _SOURCE_SUFFIXES)
    if not files:
        raise BuildError(f"no Go module in {source}")
    for path in files:
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _ensure(target: Path, root: Path, build) -> Path:
    if target.exists():
        return target
    with file_lock(root / "build.lock", on_wait=lambda: say(f"waiting for another build into "
                                                             f"{root}…")):
        if not target.exists():  # the process we waited for may have built it
            build()
    return target


def _build_helm(version: str, root: Path, target: Path) -> None:
    go = _go_command()
    say(f"building helm {version} (first run only, ~3 min)…")
    started = time.monotonic()
    log = _fresh_log(root, f"helm-{version}")
    with tempfile.TemporaryDirectory(prefix="helm-build-", dir=_scratch(root)) as scratch:
        work = Path(scratch)
        downloaded = json.loads(_go(go, ["mod", "download", "-json", f"{HELM_MODULE}@{version}"],
                                    work, log))
        if downloaded.get("Error"):
            raise BuildError(f"cannot download {HELM_MODULE}@{version}: {downloaded['Error']}")
        ldflags = helm_ldflags(version, Path(downloaded["GoMod"]).read_text())
        # `go install pkg@version` uses helm's go.mod and go.sum as released; GOBIN is a scratch
        # directory so the binary lands in the cache only by the rename below.
        _go(go, ["install", "-mod=readonly", "-trimpath", "-ldflags", ldflags,
                 f"{HELM_PACKAGE}@{version}"], work, log, extra_env={"GOBIN": str(work)})
        _install(work / "helm", target)
    say(f"built helm {version} in {elapsed_since(started)}: {target}")


def _build_local(name: str, source: Path, root: Path, target: Path) -> None:
    go = _go_command()
    say(f"building {name} from {source} (first run only, ~1 min)…")
    started = time.monotonic()
    log = _fresh_log(root, name)
    with tempfile.TemporaryDirectory(prefix=f"{name}-build-", dir=_scratch(root)) as scratch:
        built = Path(scratch) / name
        # readonly: the committed go.sum is the truth; a missing entry is an error, not an edit.
        _go(go, ["build", "-mod=readonly", "-trimpath", "-ldflags", "-s -w", "-o", str(built),
                 "."], source, log)
        _install(built, target)
    say(f"built {name} in {elapsed_since(started)}: {target}")


def _install(built: Path, target: Path) -> None:
    """Copy beside the target and rename: a reader never sees a half-written binary."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        partial.write_bytes(built.read_bytes())
        partial.chmod(0o755)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _fresh_log(root: Path, name: str) -> Path:
    log = root / "logs" / f"build-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    return log


def _scratch(root: Path) -> Path:
    scratch = root / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    return scratch
