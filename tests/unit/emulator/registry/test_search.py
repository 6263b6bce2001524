"""The MLflow UC protocol's version search filter and offset pages."""

from __future__ import annotations

import pytest

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.registry.search import name_filter, offset_page


@pytest.mark.parametrize("text", ["name='main.churn.ml_model'", ' name = "main.churn.ml_model" '])
def test_a_name_filter_names_one_model(text):
    assert name_filter(text).full == "main.churn.ml_model"


@pytest.mark.parametrize("text, message", [
    ("run_id='abc'", "by name only"),
    ("name='a' AND run_id='b'", "by name only"),
    ("", "by name only"),
    ("name='two.levels'", "three-level name"),
])
def test_other_filters_are_refused_with_what_works(text, message):
    with pytest.raises(ApiError, match=message):
        name_filter(text)


def test_pages_walk_the_items_and_end_with_an_empty_token():
    items = list(range(5))
    assert offset_page(items, 2, "") == ([0, 1], "2")
    assert offset_page(items, 2, "2") == ([2, 3], "4")
    assert offset_page(items, 2, "4") == ([4], "")
    assert offset_page(items, 0, "") == (items, "")  # 0 means the default page size


@pytest.mark.parametrize("max_results, token", [(-1, ""), (10, "abc")])
def test_bad_page_parameters(max_results, token):
    with pytest.raises(ApiError):
        offset_page([1], max_results, token)
