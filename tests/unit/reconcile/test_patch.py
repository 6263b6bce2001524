from lakeserve.reconcile.patch import merge_patch, without_none


def test_equal_documents_need_no_patch():
    doc = {"a": 1, "b": {"c": [1, 2]}}
    assert merge_patch(doc, dict(doc)) == {}


def test_removed_keys_become_null_at_any_depth():
    old = {"state": {"ready": "READY", "configUpdate": "IN_PROGRESS"}, "pending": [1]}
    new = {"state": {"ready": "READY"}}
    assert merge_patch(old, new) == {"state": {"configUpdate": None}, "pending": None}


def test_lists_are_replaced_whole():
    assert merge_patch({"l": [1, 2]}, {"l": [2]}) == {"l": [2]}


def test_without_none_cleans_nested_lists_of_objects():
    assert without_none({"a": None, "l": [{"x": None, "y": 1}]}) == {"l": [{"y": 1}]}
