"""Compiling the control-plane binaries from the Go module proxy, once per version.

Each binary is built inside a throwaway "wrapper" module that depends on the upstream module at
the pinned version, because ``go install pkg@version`` refuses modules with replace directives,
which k8s.io/kubernetes has. The wrapper modules are kept in the cache so a second binary from
the same upstream reuses the resolved dependency graph.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lakeserve.devcluster.cache import binary_path, cache_root, file_lock
from lakeserve.devcluster.gomod import replace_flags, staging_modules
from lakeserve.devcluster.progress import elapsed_since, say
from lakeserve.devcluster.versions import (
    ETCD_VERSION,
    KUBERNETES_VERSION,
    etcd_ldflags,
    kubernetes_ldflags,
    staging_version,
)

# Lines of the go command's output quoted in a build error; the cause is nearly always at the end.
_ERROR_TAIL_LINES = 40


class BuildError(RuntimeError):
    """A binary could not be built; the message carries the failing command's output tail."""


@dataclass(frozen=True)
class GoBinary:
    """One binary and where it comes from."""

    name: str
    package: str  # the main package's import path
    module: str  # the upstream module that the wrapper depends on
    version: str
    ldflags: str
    minutes: int  # rough cold build time on two cores, for the progress message


KUBE_APISERVER = GoBinary("kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver",
                          "k8s.io/kubernetes", KUBERNETES_VERSION,
                          kubernetes_ldflags(KUBERNETES_VERSION), 5)
KUBE_CONTROLLER_MANAGER = GoBinary("kube-controller-manager",
                                   "k8s.io/kubernetes/cmd/kube-controller-manager",
                                   "k8s.io/kubernetes", KUBERNETES_VERSION,
                                   kubernetes_ldflags(KUBERNETES_VERSION), 2)
KUBECTL = GoBinary("kubectl", "k8s.io/kubernetes/cmd/kubectl", "k8s.io/kubernetes",
                   KUBERNETES_VERSION, kubernetes_ldflags(KUBERNETES_VERSION), 1)
ETCD = GoBinary("etcd", "go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/server/v3", ETCD_VERSION,
                etcd_ldflags(), 1)


@dataclass(frozen=True)
class Binaries:
    """Paths of everything a dev cluster runs."""

    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kubectl: Path


def ensure_binaries(root: Path | None = None) -> Binaries:
    """Find the cached binaries, building the missing ones (minutes, first run only)."""
    return Binaries(
        etcd=ensure_binary(ETCD, root),
        kube_apiserver=ensure_binary(KUBE_APISERVER, root),
        kube_controller_manager=ensure_binary(KUBE_CONTROLLER_MANAGER, root),
        kubectl=find_kubectl(root),
    )


def find_kubectl(root: Path | None = None) -> Path:
    """The machine's kubectl if there is one (any recent one talks to the cluster), else ours."""
    installed = shutil.which("kubectl")
    return Path(installed) if installed else ensure_binary(KUBECTL, root)


def ensure_binary(binary: GoBinary, root: Path | None = None) -> Path:
    """The cached ``binary``, built under a lock if it is missing."""
    root = root or cache_root()
    target = binary_path(binary.name, binary.version, root)
    if target.exists():
        return target
    lock = root / "build.lock"
    with file_lock(lock, on_wait=lambda: say(f"waiting for another build into {root}…")):
        if not target.exists():  # the process we waited for may have built it
            _build(binary, root, target)
    return target


def _build(binary: GoBinary, root: Path, target: Path) -> None:
    go = _go_command()
    say(f"building {binary.name} {binary.version} (first run only, ~{binary.minutes} min)…")
    started = time.monotonic()
    log = root / "logs" / f"build-{binary.name}-{binary.version}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    wrapper = _ensure_wrapper(go, binary, root, log)
    _go(go, ["get", f"{binary.package}@{binary.version}"], wrapper, log)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Build beside the target and rename: a reader never sees a half-written binary.
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        _go(go, ["build", "-ldflags", binary.ldflags, "-o", str(partial), binary.package],
            wrapper, log)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    say(f"built {binary.name} {binary.version} in {elapsed_since(started)}: {target}")


def _go_command() -> str:
    go = shutil.which("go")
    if go is None:
        raise BuildError("the Go toolchain (`go`) is not on PATH; it is needed once to build the "
                         "dev cluster's binaries from the Go module proxy")
    return go


def _ensure_wrapper(go: str, binary: GoBinary, root: Path, log: Path) -> Path:
    """The wrapper module for ``binary.module`` at its version, created on first use."""
    wrapper = root / "gowork" / f"{binary.module.replace('/', '_')}-{binary.version}"
    if (wrapper / "go.mod").exists():
        return wrapper
    # Prepared under a temporary name, so an interrupted preparation is never mistaken for done.
    partial = wrapper.with_name(f"{wrapper.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    _go(go, ["mod", "init", "example.local/lakeserve-devcluster-build"], partial, log)
    if binary.module == "k8s.io/kubernetes":
        _pin_staging_modules(go, binary.version, partial, log)
    _go(go, ["get", f"{binary.module}@{binary.version}"], partial, log)
    os.replace(partial, wrapper)
    return wrapper


def _pin_staging_modules(go: str, version: str, wrapper: Path, log: Path) -> None:
    """Replace k8s.io/kubernetes' ./staging modules by their published versions."""
    downloaded = json.loads(_go(go, ["mod", "download", "-json", f"k8s.io/kubernetes@{version}"],
                                wrapper, log))
    if downloaded.get("Error"):
        raise BuildError(f"cannot download k8s.io/kubernetes@{version}: {downloaded['Error']}")
    modules = staging_modules(Path(downloaded["GoMod"]).read_text())
    if not modules:
        raise BuildError(f"found no staging modules in {downloaded['GoMod']}; the go.mod layout of "
                         f"k8s.io/kubernetes@{version} is not the one this builder expects")
    _go(go, ["mod", "edit", *replace_flags(modules, staging_version(version))], wrapper, log)


def _go_environment() -> dict[str, str]:
    env = dict(os.environ)
    # -mod=mod lets the go command complete go.mod/go.sum of the wrapper as it needs;
    # the wrapper is never in a VCS checkout worth stamping. CGO off gives static binaries and
    # spares the need for a C compiler.
    env["GOFLAGS"] = " ".join(filter(None, [env.get("GOFLAGS", ""), "-mod=mod", "-buildvcs=false"]))
    env["CGO_ENABLED"] = "0"
    return env


def _go(go: str, args: list[str], cwd: Path, log: Path,
        extra_env: dict[str, str] | None = None) -> str:
    """Run ``go args`` in ``cwd``, append its output to ``log``; stdout on success."""
    command = [go, *args]
    result = subprocess.run(command, cwd=cwd, env={**_go_environment(), **(extra_env or {})},
                            capture_output=True, text=True)
    with log.open("a") as handle:
        handle.write(f"$ {' '.join(command)}\n{result.stderr}")
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-_ERROR_TAIL_LINES:])
        raise BuildError(f"`{' '.join(command)}` failed with exit code {result.returncode} in "
                         f"{cwd}:\n{tail}\n(full output: {log})")
    return result.stdout
