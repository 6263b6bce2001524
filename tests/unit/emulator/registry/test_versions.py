"""Reserved version tags: what UC reports from them and that clients cannot set them."""

from __future__ import annotations

import pytest
from mlflow.entities.model_registry import ModelVersion

from lakeserve.emulator.errors import ApiError
from lakeserve.emulator.registry import versions


def version(**tags: str) -> ModelVersion:
    mv = ModelVersion("c.s.m", "1", 0, source="file:///data/files/Models/c/s/m/1",
                      status="READY")
    mv._tags = dict(tags)
    return mv


def test_a_version_registered_through_mlflow_reports_the_clients_source_and_pending_status():
    pending = version(**{versions.SOURCE_TAG: "models:/m-123", versions.STATUS_TAG: "PENDING_"
                         "REGISTRATION", "team": "churn"})
    assert versions.source(pending) == "models:/m-123"
    assert versions.storage_location(pending) == "file:///data/files/Models/c/s/m/1"
    assert versions.status(pending) == "PENDING_REGISTRATION"
    assert versions.user_tags(pending) == {"team": "churn"}


def test_a_version_without_reserved_tags_is_what_mlflow_says():
    plain = version()
    assert (versions.source(plain), versions.status(plain)) == \
        ("file:///data/files/Models/c/s/m/1", "READY")


def test_clients_cannot_set_reserved_tags():
    with pytest.raises(ApiError, match="reserved"):
        versions.check_tag_key(versions.STATUS_TAG)
    versions.check_tag_key("lakeserve")  # only the prefix is reserved
