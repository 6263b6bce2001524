"""Pinned versions, the staging tag derived from them, and the version-stamping link flags."""

import pytest

from lakeserve.devcluster.versions import (
    ETCD_VERSION,
    KUBERNETES_VERSION,
    kubernetes_ldflags,
    staging_version,
)

pytestmark = pytest.mark.timeout(10)


def test_pinned_versions():
    assert KUBERNETES_VERSION == "v1.36.3"
    assert ETCD_VERSION == "v3.6.16"


def test_staging_modules_are_tagged_v0_minor_patch():
    assert staging_version("v1.36.3") == "v0.36.3"
    assert staging_version("v1.9.12") == "v0.9.12"


@pytest.mark.parametrize("version", ["1.36.3", "v1.36", "v1.36.3-rc.0", "v2.0.0"])
def test_staging_version_rejects_what_it_cannot_map(version):
    with pytest.raises(ValueError):
        staging_version(version)


def test_ldflags_stamp_the_release_into_component_base_and_client_go():
    flags = kubernetes_ldflags("v1.36.3").split()
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"{package}.gitVersion=v1.36.3" in flags
        assert f"{package}.gitMajor=1" in flags
        assert f"{package}.gitMinor=36" in flags
        assert f"{package}.gitTreeState=clean" in flags
    assert flags[:2] == ["-s", "-w"]
    # every -X is followed by exactly one name=value argument
    assert all("=" in flags[i + 1] for i, flag in enumerate(flags) if flag == "-X")
