"""Malformed manifests are refused by the API server, with a message in the user's terms.

Each file in <kind>/malformed/ says why it is wrong and what the refusal must say. Files with two
documents apply the first and expect the second (an update) to be refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

CASES = sorted(Path(__file__).parent.glob("*/malformed/*.yaml"))


def expectation(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# expect: "):
            return line.removeprefix("# expect: ")
    raise AssertionError(f"{path.name} says nothing about the expected refusal")


def test_there_are_at_least_25_serving_endpoint_cases():
    assert len([c for c in CASES if c.parent.parent.name == "servingendpoint"]) >= 25


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.parent.name}/{p.stem}" for p in CASES])
def test_refused_at_admission(path, cluster):
    documents = list(yaml.safe_load_all(path.read_text()))
    *setup, refused = documents
    for document in setup:
        cluster.apply(document)
    result = cluster.kubectl("apply", "--dry-run=server", "-n", cluster.namespace, "-f", "-",
                             input=yaml.safe_dump(refused), check=False)
    assert result.returncode != 0, f"{path.name} was accepted"
    assert expectation(path) in result.stderr, result.stderr
