"""Which modules k8s.io/kubernetes takes from ./staging, and how they get pinned instead."""

import pytest

from lakeserve.devcluster.gomod import replace_flags, staging_modules

pytestmark = pytest.mark.timeout(10)

GO_MOD = """\
module k8s.io/kubernetes

go 1.26.0

require (
\tk8s.io/api v0.0.0
\tk8s.io/utils v0.0.0-20250604170112-4c0f3b243397
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/apimachinery => ./staging/src/k8s.io/apimachinery
\t// k8s.io/commented-out => ./staging/src/k8s.io/commented-out
\tk8s.io/client-go => ./staging/src/k8s.io/client-go // trailing comment
\tgithub.com/some/fork => github.com/other/fork v1.2.3
)

replace k8s.io/kms v0.0.0 => ./staging/src/k8s.io/kms
replace k8s.io/not-staging => ../elsewhere/not-staging
"""


def test_finds_block_and_single_line_staging_replaces():
    assert staging_modules(GO_MOD) == [
        "k8s.io/api", "k8s.io/apimachinery", "k8s.io/client-go", "k8s.io/kms"]


def test_ignores_requires_comments_and_replaces_elsewhere():
    found = staging_modules(GO_MOD)
    assert "k8s.io/utils" not in found
    assert "k8s.io/commented-out" not in found
    assert "k8s.io/not-staging" not in found
    assert not any(module.startswith("github.com") for module in found)


def test_no_staging_modules_in_an_unrelated_go_mod():
    assert staging_modules("module example.com/x\n\ngo 1.22\n") == []


def test_replace_flags_pin_each_module_to_the_published_version():
    assert replace_flags(["k8s.io/api", "k8s.io/kms"], "v0.36.3") == [
        "-replace=k8s.io/api=k8s.io/api@v0.36.3",
        "-replace=k8s.io/kms=k8s.io/kms@v0.36.3",
    ]
