"""Shards split the objects by label, leave none out and never share one."""


import pytest

from lakeserve.settings import Settings
from lakeserve.sharding import SHARD_LABEL, label_selector

pytestmark = pytest.mark.timeout(10)


def matches(selector: str | None, labels: dict[str, str]) -> bool:
    """The API server's reading of the two selector forms used."""
    if selector is None:
        return True
    key, _, rest = selector.partition(" notin ")
    if rest:
        return labels.get(key) not in rest.strip("()").split(",")
    key, _, value = selector.partition("=")
    return labels.get(key) == value


# (reason, the object's labels)
OBJECTS = [
    ("unlabelled", {}),
    ("labelled for the first shard", {SHARD_LABEL: "0"}),
    ("labelled for the last shard", {SHARD_LABEL: "2"}),
    ("labelled for a shard that does not exist", {SHARD_LABEL: "7"}),
    ("labelled with a word", {SHARD_LABEL: "blue"}),
]


@pytest.mark.parametrize("count", [1, 2, 3])
@pytest.mark.parametrize("case, labels", OBJECTS, ids=[c[0] for c in OBJECTS])
def test_every_object_belongs_to_exactly_one_shard(case, labels, count):
    owners = [i for i in range(count) if matches(label_selector(i, count), labels)]
    assert len(owners) == 1, owners


def test_the_selectors_go_to_the_api_server_as_written():
    assert label_selector(0, 1) is None
    assert label_selector(0, 3) == f"{SHARD_LABEL} notin (1,2)"
    assert label_selector(2, 3) == f"{SHARD_LABEL}=2"


@pytest.mark.parametrize("index, count", [(2, 2), (-1, 2), (0, 0)])
def test_a_shard_outside_the_count_is_refused_with_the_variables_to_fix(index, count):
    with pytest.raises(ValueError, match="LAKESERVE_SHARD_INDEX.*LAKESERVE_SHARD_COUNT"):
        Settings(shard_index=index, shard_count=count)


def test_shard_settings_come_from_the_environment():
    settings = Settings.from_env({"LAKESERVE_SHARD_INDEX": "1", "LAKESERVE_SHARD_COUNT": "2",
                                  "LAKESERVE_WRITE_SHARE": "10"})
    assert (settings.shard_index, settings.shard_count, settings.writes_per_window) == (1, 2, 10)
