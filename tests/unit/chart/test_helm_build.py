"""Building helm and the kstatus tool into the binary cache, with a fake `go` on PATH."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from lakeserve.devcluster.build import BuildError
from lakeserve.devcluster.helm import (
    HELM_VERSION,
    ensure_helm,
    ensure_local_tool,
    helm_ldflags,
    source_hash,
)

pytestmark = pytest.mark.timeout(30)

REPO = Path(__file__).resolve().parents[3]

HELM_GO_MOD = """module helm.sh/helm/v3

go 1.26.0

require (
\tgithub.com/BurntSushi/toml v1.6.0
\tk8s.io/client-go v0.37.0
)
"""

# A stand-in for the go command: logs its arguments, answers `mod download -json` with a go.mod
# of its own, and "builds" by writing a script where `go install` (GOBIN) or `go build -o` puts it.
FAKE_GO = """#!/bin/sh
echo "$@" >> "$FAKE_GO_LOG"
case "$1 $2" in
  "mod download")
    printf '%s' "$FAKE_GO_MOD" > "$FAKE_GO_DIR/helm.go.mod"
    printf '{"Path": "helm.sh/helm/v3", "GoMod": "%s"}' "$FAKE_GO_DIR/helm.go.mod"
    ;;
  "install "*)
    [ -n "$FAKE_GO_FAIL" ] && { echo "go: helm.sh/helm/v3@v3.22.0: 410 Gone" >&2; exit 1; }
    printf '#!/bin/sh\\necho fake helm\\n' > "$GOBIN/helm"
    ;;
  "build -mod=readonly")
    while [ "$1" != "-o" ]; do shift; done
    printf '#!/bin/sh\\necho fake tool\\n' > "$2"
    ;;
esac
"""


@pytest.fixture
def fake_go(tmp_path, monkeypatch):
    bin_dir = tmp_path / "fakebin"
    bin_dir.mkdir()
    go = bin_dir / "go"
    go.write_text(FAKE_GO)
    go.chmod(go.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "go.log"
    log.write_text("")
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("FAKE_GO_LOG", str(log))
    monkeypatch.setenv("FAKE_GO_DIR", str(tmp_path))
    monkeypatch.setenv("FAKE_GO_MOD", HELM_GO_MOD)
    return log


def test_ldflags_stamp_the_release_and_the_kubernetes_minor_of_helms_client_go():
    flags = helm_ldflags("v3.22.0", HELM_GO_MOD)
    assert "-X helm.sh/helm/v3/internal/version.version=v3.22.0" in flags
    for package in ("pkg/lint/rules", "pkg/chartutil"):
        assert f"-X helm.sh/helm/v3/{package}.k8sVersionMajor=1" in flags
        assert f"-X helm.sh/helm/v3/{package}.k8sVersionMinor=37" in flags


def test_ldflags_refuse_a_go_mod_without_client_go():
    with pytest.raises(BuildError, match="client-go"):
        helm_ldflags("v3.22.0", "module helm.sh/helm/v3\n")


def test_helm_is_installed_from_the_module_proxy_once_and_then_cached(fake_go, tmp_path):
    cache = tmp_path / "cache"
    helm = ensure_helm(cache)
    assert helm == cache / "bin" / f"helm-{HELM_VERSION}"
    assert helm.read_text().endswith("echo fake helm\n") and helm.stat().st_mode & stat.S_IXUSR
    calls = fake_go.read_text().splitlines()
    install = [c for c in calls if c.startswith("install")]
    assert len(install) == 1
    assert install[0].endswith(f"helm.sh/helm/v3/cmd/helm@{HELM_VERSION}")
    assert "k8sVersionMinor=37" in install[0] and "-mod=readonly" in install[0]
    assert ensure_helm(cache) == helm
    assert fake_go.read_text().splitlines() == calls, "the second call found the cached binary"


def test_a_failed_helm_build_says_why_and_leaves_nothing_behind(fake_go, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_GO_FAIL", "1")
    cache = tmp_path / "cache"
    with pytest.raises(BuildError) as raised:
        ensure_helm(cache)
    assert "410 Gone" in str(raised.value) and "go install" in str(raised.value)
    assert not (cache / "bin").exists() or not any((cache / "bin").iterdir())
    assert not list((cache / "scratch").iterdir())


def test_a_local_tool_is_keyed_by_its_sources(fake_go, tmp_path):
    source = tmp_path / "tool"
    source.mkdir()
    (source / "go.mod").write_text("module example.local/tool\n")
    (source / "main.go").write_text("package main\nfunc main() {}\n")
    cache = tmp_path / "cache"
    first = ensure_local_tool("tool", source, cache)
    assert first.name == f"tool-src-{source_hash(source)}" and first.exists()
    (source / "README.md").write_text("docs do not count\n")
    assert ensure_local_tool("tool", source, cache) == first
    (source / "main.go").write_text("package main\nfunc main() { println() }\n")
    second = ensure_local_tool("tool", source, cache)
    assert second != first and second.exists()
    builds = [c for c in fake_go.read_text().splitlines() if c.startswith("build")]
    assert len(builds) == 2


def test_the_kstatus_tool_commits_its_module_files():
    tool = REPO / "tools" / "kstatus"
    go_mod = (tool / "go.mod").read_text()
    assert "sigs.k8s.io/cli-utils v0.37.2" in go_mod
    assert "sigs.k8s.io/cli-utils v0.37.2 h1:" in (tool / "go.sum").read_text()
    assert 'status.Compute(' in (tool / "main.go").read_text()
