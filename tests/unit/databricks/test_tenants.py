"""Clients per workspace object and Secret version: rotation gives a new one, nothing else does."""

from __future__ import annotations

import pytest

from lakeserve.databricks.limiter import HostLimiters
from lakeserve.databricks.tenants import WorkspaceClients, WorkspaceSource
from lakeserve.databricks.workspace import CredentialsError
from lakeserve.settings import Settings

TOKEN = {"DATABRICKS_TOKEN": "dapi-rotation-test-0001"}


class RecordingBuilder:
    """Stands in for ClientBuilder: builds nothing over the network, records the keys."""

    def __init__(self):
        self.built: dict = {}

    def get(self, key, build, host):
        if key not in self.built:
            self.built[key] = object()
        return self.built[key]

    def forget(self, keep):
        self.built = {k: v for k, v in self.built.items() if keep(k)}


def source(name="dev", generation=1, limit=None, host="https://a.example"):
    return WorkspaceSource(kind="Workspace", namespace="team-a", name=name, uid=f"uid-{name}",
                           generation=generation, host=host, secret_namespace="team-a",
                           secret_name="creds", write_limit=limit)


@pytest.fixture
def clients():
    return WorkspaceClients(Settings(), RecordingBuilder(), HostLimiters())


def test_the_same_secret_version_reuses_the_client(clients):
    first = clients.workspace(source(), TOKEN, "100")
    assert clients.workspace(source(), TOKEN, "100").client is first.client


def test_a_rotated_secret_gives_a_new_client_and_drops_the_old_one(clients):
    old = clients.workspace(source(), TOKEN, "100")
    new = clients.workspace(source(), {"DATABRICKS_TOKEN": "dapi-rotated-0002"}, "101")
    assert new.client is not old.client
    assert list(clients._builder.built) == [("Workspace team-a/dev", "uid-dev", 1, "101")]
    assert clients.auth_type(source()) == "pat"


# (reason, what changed since the client was handed out, whether current() answers)
CURRENT = [
    ("nothing: the event loop may use it", source(), "100", True),
    ("the Secret was rotated: build in a thread", source(), "101", False),
    ("the spec changed (a new write limit, say)", source(generation=2), "100", False),
    ("another workspace object", source("prod"), "100", False),
]


@pytest.mark.parametrize("case, asked, version, answers", CURRENT, ids=[c[0] for c in CURRENT])
def test_current_answers_only_for_the_same_generation_and_secret_version(
        case, asked, version, answers, clients):
    assert clients.current(source(), "100") is None, "nothing handed out yet"
    built = clients.workspace(source(), TOKEN, "100")
    assert clients.current(asked, version) is (built if answers else None)


def test_a_forgotten_workspace_object_has_no_current_client(clients):
    clients.workspace(source(), TOKEN, "100")
    clients.forget(source().identity)
    assert clients.current(source(), "100") is None


def test_a_changed_spec_gives_a_new_client(clients):
    old = clients.workspace(source(generation=1), TOKEN, "100")
    assert clients.workspace(source(generation=2), TOKEN, "100").client is not old.client


def test_workspace_objects_naming_one_host_share_its_limiter(clients):
    first = clients.workspace(source("dev"), TOKEN, "1")
    other = clients.workspace(source("prod", limit=(10, 60.0)), TOKEN, "1")
    assert first.limiter is other.limiter
    assert (first.limiter.limit, first.limiter.window) == (10, 60.0)
    clients.forget("Workspace team-a/prod")
    assert first.limiter.limit == Settings().write_limit, "its limit went with it"
    assert clients.last_built("Workspace team-a/prod") is None
    assert clients.last_built("Workspace team-a/dev") is first


def test_an_unusable_secret_builds_nothing(clients):
    with pytest.raises(CredentialsError, match="Secret team-a/creds has keys of 2 auth methods"):
        clients.workspace(source(), {**TOKEN, "DATABRICKS_CLIENT_ID": "sp",
                                     "DATABRICKS_CLIENT_SECRET": "s"}, "1")
    assert clients._builder.built == {}
