"""Which workspace an object lives in: decided before any Secret read or Databricks call."""

from __future__ import annotations

import asyncio
import functools

import pytest
from databricks.sdk.errors import Unauthenticated

from lakeserve.api import onlinetable, servingendpoint
from lakeserve.databricks.limiter import HostLimiters
from lakeserve.databricks.tenants import WorkspaceClients
from lakeserve.reconcile import reasons
from lakeserve.reconcile.blocking import run_blocking
from lakeserve.reconcile.conditions import Phase, Verdict, build_conditions
from lakeserve.reconcile.engine import Engine, Registration
from lakeserve.kinds import registrations
from lakeserve.reconcile.workspaces import WorkspaceResolver, user_key, users_of
from lakeserve.settings import Settings
from tests.reasons import table
from tests.unit.databricks.test_tenants import RecordingBuilder
from tests.unit.reconcile.fakes import (
    SETTINGS,
    FakeEvents,
    FakeKube,
    FakeWorkspaces,
    ScriptedClient,
    body,
    existing,
    spec,
)

HOST_A, HOST_B = "https://a.example", "https://b.example"
READY = {"observedGeneration": 1,
         "conditions": build_conditions(Verdict.ready("ok"), 1, None)}
NOT_READY = {"observedGeneration": 1, "conditions": build_conditions(
    Verdict.stalled(reasons.CREDENTIALS_INVALID, "Databricks refused the token"), 1, None)}


def workspace_body(kind="Workspace", name="dev", status=READY, host=HOST_A, selector=None,
                   **metadata):
    spec_ = {"host": host, "credentialsSecretRef": {"name": "creds"}}
    if kind == "ClusterWorkspace":
        spec_["allowedNamespaces"] = selector if selector is not None else {}
    meta = {"name": name, "uid": f"uid-{name}", "generation": 1, **metadata}
    if kind == "Workspace":
        meta["namespace"] = "ns"
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": kind, "metadata": meta,
            "spec": spec_, "status": status}


class Tenancy:
    """An engine whose objects may name workspaces; fake Kubernetes, no network."""

    def __init__(self, client, settings=None, dependencies=None, others=None):
        self.settings = settings or Settings(**{**SETTINGS.__dict__, "operator_namespace": "ops"})
        self.client, self.kube, self.events = client, FakeKube(), FakeEvents()
        self.woken: list[str] = []
        self.clients = WorkspaceClients(self.settings, RecordingBuilder(), HostLimiters())
        resolver = WorkspaceResolver(self.settings, self.kube, FakeWorkspaces(), self.clients,
                                     functools.partial(run_blocking, None), wake=self.woken.append)
        registration = Registration(info=servingendpoint.INFO, client_factory=lambda ws: client,
                                    dependencies=dependencies or (lambda s: []))
        self.engine = Engine(self.settings, FakeWorkspaces(), self.kube, self.events,
                             {"ServingEndpoint": registration, **(others or {})},
                             tenancy=resolver)
        self.kube.secrets[("ns", "creds")] = ({"DATABRICKS_TOKEN": "dapi-ns-token-1"}, "7")
        self.kube.secrets[("ops", "creds")] = ({"DATABRICKS_TOKEN": "dapi-ops-token-1"}, "9")
        self.kube.labels["ns"] = {"tenant": "a"}

    def add(self, obj):
        self.kube.objects[(obj["kind"], obj["metadata"]["name"])] = obj

    def run(self, the_body):
        return asyncio.run(self.engine.reconcile("ServingEndpoint", the_body))

    def finalize(self, the_body):
        return asyncio.run(self.engine.finalize("ServingEndpoint", the_body))

    def condition(self, type_):
        return next(c for c in self.kube.status["conditions"] if c["type"] == type_)


def referring(ref=None, **fields):
    return body(spec=spec(**({"workspaceRef": ref} if ref else {}), **fields))


# (case, workspace objects, workspaceRef, phase, reason, words of the message, Secret read)
CASES = [
    ("a Ready Workspace of the namespace", [workspace_body()], {"name": "dev"},
     Phase.READY, reasons.READY, "", ("ns", "creds")),
    ("a Workspace of another namespace is refused unread", [workspace_body()],
     {"name": "dev", "namespace": "team-b"}, Phase.STALLED, reasons.WORKSPACE_NOT_ALLOWED,
     "spec.workspaceRef.namespace is team-b, but a Workspace serves only its own namespace",
     None),
    ("a missing Workspace is waited for", [], {"name": "dev"}, Phase.RECONCILING,
     reasons.WAITING_FOR_WORKSPACE, "Workspace ns/dev, which does not exist", None),
    ("a Workspace that is not Ready is waited for", [workspace_body(status=NOT_READY)],
     {"name": "dev"}, Phase.RECONCILING, reasons.WAITING_FOR_WORKSPACE,
     "Workspace ns/dev is not Ready (CredentialsInvalid: Databricks refused the token)", None),
    ("a Workspace being deleted is waited for",
     [workspace_body(deletionTimestamp="2026-01-01T00:00:00Z")], {"name": "dev"},
     Phase.RECONCILING, reasons.WAITING_FOR_WORKSPACE, "is being deleted", None),
    ("a ClusterWorkspace admitting the namespace",
     [workspace_body("ClusterWorkspace", "shared", selector={"matchLabels": {"tenant": "a"}})],
     {"kind": "ClusterWorkspace", "name": "shared"}, Phase.READY, reasons.READY, "",
     ("ops", "creds")),
    ("a ClusterWorkspace not admitting the namespace is refused unread",
     [workspace_body("ClusterWorkspace", "shared", selector={"matchLabels": {"tenant": "b"}})],
     {"kind": "ClusterWorkspace", "name": "shared"}, Phase.STALLED,
     reasons.WORKSPACE_NOT_ALLOWED, "ClusterWorkspace shared does not admit namespace ns", None),
    ("a missing ClusterWorkspace is waited for", [],
     {"kind": "ClusterWorkspace", "name": "shared"}, Phase.RECONCILING,
     reasons.WAITING_FOR_WORKSPACE, "ClusterWorkspace shared, which does not exist", None),
]


@pytest.mark.parametrize("case, objects, ref, phase, reason, words, read",
                         table(CASES, reason_at=4))
def test_the_workspace_is_resolved_before_anything_is_read(case, objects, ref, phase, reason,
                                                            words, read):
    client = ScriptedClient([existing(ready=True)])
    tenancy = Tenancy(client)
    for obj in objects:
        tenancy.add(obj)
    outcome = tenancy.run(referring(ref))
    assert (outcome.verdict.phase, outcome.verdict.reason) == (phase, reason), outcome.verdict
    assert words in outcome.verdict.message
    assert tenancy.kube.secret_reads == ([read] if read else []), "only the admitted Secret"
    assert client.observations == ([] if phase is Phase.READY else [existing(ready=True)]), \
        "Databricks is called only with an admitted, Ready workspace"
    if phase is Phase.STALLED:
        assert reason in [e.reason for e in tenancy.events.warnings()], "a Warning event"


def test_the_workspace_is_recorded_in_status():
    tenancy = Tenancy(ScriptedClient([existing(ready=True)]))
    tenancy.add(workspace_body("ClusterWorkspace", "shared", host=HOST_B + "/"))
    tenancy.run(referring({"kind": "ClusterWorkspace", "name": "shared"}))
    assert tenancy.kube.status["workspace"] == {"kind": "ClusterWorkspace", "name": "shared",
                                                "host": HOST_B}


def test_without_a_reference_the_default_workspace_serves_unless_turned_off():
    tenancy = Tenancy(ScriptedClient([existing(ready=True)]))
    assert tenancy.run(referring()).verdict.phase is Phase.READY
    assert tenancy.kube.status["workspace"] == {"kind": "Default", "host": "https://example"}
    off = Settings(**{**SETTINGS.__dict__, "default_workspace": False})
    tenancy = Tenancy(ScriptedClient([existing(ready=True)]), settings=off)
    verdict = tenancy.run(referring()).verdict
    assert verdict.reason == reasons.WORKSPACE_NOT_ALLOWED
    assert "no default workspace" in verdict.message and "set spec.workspaceRef" in verdict.message


class BuiltWorkspace(FakeWorkspaces):
    """A default workspace already built: ``current`` answers without a thread."""

    def current(self):
        return self.get()


def test_a_built_default_workspace_is_resolved_without_a_thread():
    def no_thread(fn, *args):
        raise AssertionError(f"went to a thread for {fn}")

    resolver = WorkspaceResolver(SETTINGS, FakeKube(), BuiltWorkspace(), None, no_thread)
    engine = Engine(SETTINGS, FakeWorkspaces(), FakeKube(), FakeEvents(), {})
    managed = engine._managed(Registration(servingendpoint.INFO, lambda ws: None), body())
    resolved = asyncio.run(resolver.resolve(managed))
    assert resolved.workspace.host == "https://example" and resolved.source is None


def test_a_workspace_object_goes_to_a_thread_only_for_a_new_spec_or_secret_version():
    threads: list = []

    async def counting(fn, *args):
        threads.append(fn)
        return fn(*args)

    tenancy = Tenancy(ScriptedClient([existing(ready=True)] * 3))
    tenancy.engine.tenancy._call = counting
    tenancy.add(workspace_body())
    for _ in range(2):
        assert tenancy.run(referring({"name": "dev"})).verdict.phase is Phase.READY
    assert len(threads) == 1, "the second pass reuses the workspace on the event loop"
    tenancy.kube.secrets[("ns", "creds")] = ({"DATABRICKS_TOKEN": "dapi-ns-token-2"}, "8")
    tenancy.engine.tenancy.secrets.invalidate("ns", "creds")
    tenancy.run(referring({"name": "dev"}))
    assert len(threads) == 2, "a rotated Secret builds its client in a thread"


def test_objects_naming_one_workspace_read_it_once_and_see_its_watch_events_at_once():
    tenancy = Tenancy(ScriptedClient([existing(ready=True)] * 3))
    reads = []
    get_object = tenancy.kube.get_object

    async def counting(info, namespace, name):
        reads.append(name)
        return await get_object(info, namespace, name)

    tenancy.kube.get_object = counting
    tenancy.add(workspace_body())
    for name in ("ep-1", "ep-2"):
        the_body = body(name=name, spec=spec(workspaceRef={"name": "dev"}))
        assert tenancy.run(the_body).verdict.phase is Phase.READY
    assert reads == ["dev"], "the second object found the Workspace already read"
    tenancy.engine.tenancy.observe("Workspace", workspace_body(status=NOT_READY), "MODIFIED")
    verdict = tenancy.run(body(name="ep-3", spec=spec(workspaceRef={"name": "dev"}))).verdict
    assert verdict.reason == reasons.WAITING_FOR_WORKSPACE and reads == ["dev"]
    tenancy.engine.tenancy.observe("Workspace", workspace_body(), "DELETED")
    tenancy.kube.objects.clear()
    verdict = tenancy.run(body(name="ep-3", spec=spec(workspaceRef={"name": "dev"}))).verdict
    assert "does not exist" in verdict.message and reads == ["dev", "dev"]


def test_cluster_workspaces_need_an_operator_namespace():
    nowhere = Settings(**{**SETTINGS.__dict__, "operator_namespace": ""})
    tenancy = Tenancy(ScriptedClient([]), settings=nowhere)
    tenancy.add(workspace_body("ClusterWorkspace", "shared"))
    verdict = tenancy.run(referring({"kind": "ClusterWorkspace", "name": "shared"})).verdict
    assert verdict.reason == reasons.WORKSPACE_NOT_ALLOWED
    assert "serves no ClusterWorkspace" in verdict.message
    assert tenancy.kube.secret_reads == []


@pytest.mark.produces(reasons.WAITING_FOR_WORKSPACE)
def test_a_deleted_secret_waits_for_the_workspace_and_wakes_its_check():
    tenancy = Tenancy(ScriptedClient([existing(ready=True)]))
    tenancy.add(workspace_body())
    del tenancy.kube.secrets[("ns", "creds")]
    verdict = tenancy.run(referring({"name": "dev"})).verdict
    assert verdict.reason == reasons.WAITING_FOR_WORKSPACE
    assert "Workspace ns/dev cannot be used: its credentials Secret ns/creds does not exist" \
        in verdict.message
    assert tenancy.woken == ["uid-dev"]


def test_refused_credentials_wait_for_the_workspace_and_are_read_again():
    client = ScriptedClient([Unauthenticated("Invalid access token."), existing(ready=True)])
    tenancy = Tenancy(client)
    tenancy.add(workspace_body())
    the_body = referring({"name": "dev"})
    verdict = tenancy.run(the_body).verdict
    assert (verdict.phase, verdict.reason) == (Phase.RECONCILING, reasons.WAITING_FOR_WORKSPACE)
    assert "Databricks refused the credentials of Workspace ns/dev (Secret ns/creds)" \
        in verdict.message
    assert tenancy.woken == ["uid-dev"]
    tenancy.kube.secrets[("ns", "creds")] = ({"DATABRICKS_TOKEN": "dapi-rotated-2"}, "8")
    assert tenancy.run(the_body).verdict.phase is Phase.READY
    assert tenancy.kube.secret_reads == [("ns", "creds")] * 2, "read again at once, not after " \
                                                                "the refresh interval"


@pytest.mark.produces(reasons.WORKSPACE_MISMATCH)
def test_depends_on_only_crosses_objects_of_the_same_workspace():
    table_body = {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "OnlineTable",
                  "metadata": {"name": "features", "namespace": "ns", "generation": 1},
                  "status": {**READY, "workspace": {"kind": "ClusterWorkspace",
                                                    "name": "shared", "host": HOST_B}}}
    client = ScriptedClient([existing(ready=True)])
    dependency = Registration(info=onlinetable.INFO, client_factory=lambda ws: client)
    tenancy = Tenancy(client, others={"OnlineTable": dependency},
                      dependencies=lambda s: [type("Ref", (), {"kind": "OnlineTable",
                                                               "name": "features"})()])
    tenancy.add(workspace_body())
    tenancy.add(table_body)
    verdict = tenancy.run(referring({"name": "dev"})).verdict
    assert (verdict.phase, verdict.reason) == (Phase.STALLED, reasons.WORKSPACE_MISMATCH)
    assert f"OnlineTable/features lives in workspace {HOST_B}, this object in {HOST_A}" \
        in verdict.message
    assert client.observations, "nothing was read from Databricks"
    table_body["status"]["workspace"]["host"] = HOST_A
    assert tenancy.run(referring({"name": "dev"})).verdict.phase is Phase.READY


def test_deletion_after_the_secret_went_uses_the_last_client_built():
    client = ScriptedClient([existing(ready=True), existing(ready=True)])
    tenancy = Tenancy(client)
    tenancy.add(workspace_body())
    the_body = referring({"name": "dev"})
    tenancy.run(the_body)
    del tenancy.kube.secrets[("ns", "creds")]  # a namespace's deletion takes Secrets first
    tenancy.kube.objects[("Workspace", "dev")]["metadata"]["deletionTimestamp"] = "t"
    the_body["status"] = tenancy.kube.status
    tenancy.engine.tenancy.secrets.invalidate("ns", "creds")
    assert tenancy.finalize(the_body) is None
    assert client.writes == ["delete"]


@pytest.mark.parametrize("spec_, status, expected", [
    ({"workspaceRef": {"name": "dev"}},
     {"owned": {"name": "x"}, "workspace": {"kind": "Workspace", "name": "dev"}},
     ("Workspace", "ns", "dev")),
    ({"workspaceRef": {"kind": "ClusterWorkspace", "name": "shared"}},
     {"owned": {"name": "x"}, "workspace": {"kind": "ClusterWorkspace", "name": "shared"}},
     ("ClusterWorkspace", None, "shared")),
    ({"workspaceRef": {"name": "dev"}}, {"workspace": {"kind": "Workspace", "name": "dev"}},
     None),
    ({"workspaceRef": {"name": "dev", "namespace": "other"}},
     {"owned": {"name": "x"}, "workspace": {"kind": "Workspace", "name": "dev"}},
     ("Workspace", "ns", "dev")),
    ({"workspaceRef": {"kind": "ClusterWorkspace", "name": "shared"}},
     {"owned": {"name": "x"}}, None),
    ({"workspaceRef": {"name": "dev"}, "deletionPolicy": "Orphan"},
     {"owned": {"name": "x"}, "workspace": {"kind": "Workspace", "name": "dev"}}, None),
    ({}, {"owned": {"name": "x"}}, None),
], ids=["created-through-a-workspace", "created-through-a-cluster-workspace",
        "reconciled-there-owning-nothing",
        "another-namespace-counts-as-its-own", "never-admitted", "orphans-its-object",
        "default-workspace"])
def test_which_workspace_object_an_object_needs_for_its_own_deletion(spec_, status, expected):
    assert user_key("ns", spec_, status) == expected


def test_an_object_never_admitted_is_deleted_without_a_call():
    client = ScriptedClient([])
    tenancy = Tenancy(client)
    tenancy.add(workspace_body("ClusterWorkspace", "shared",
                               selector={"matchLabels": {"tenant": "b"}}))
    assert tenancy.finalize(referring({"kind": "ClusterWorkspace", "name": "shared"})) is None
    assert client.writes == [] and tenancy.kube.secret_reads == []
    assert tenancy.events.reasons() == [reasons.NOT_OWNED]


def test_an_object_admitted_once_waits_to_be_deleted_until_admitted_again():
    tenancy = Tenancy(ScriptedClient([]))
    tenancy.add(workspace_body("ClusterWorkspace", "shared",
                               selector={"matchLabels": {"tenant": "b"}}))
    the_body = referring({"kind": "ClusterWorkspace", "name": "shared"})
    the_body["status"] = {"workspace": {"kind": "ClusterWorkspace", "name": "shared",
                                        "host": HOST_A}, "owned": {"name": "ep"}}
    assert tenancy.finalize(the_body) is not None, "blocked, not finished"
    assert reasons.WORKSPACE_NOT_ALLOWED in [e.reason for e in tenancy.events.warnings()]


def test_an_object_admitted_once_that_owns_nothing_is_deleted_without_a_call():
    client = ScriptedClient([])
    tenancy = Tenancy(client)
    tenancy.add(workspace_body("ClusterWorkspace", "shared",
                               selector={"matchLabels": {"tenant": "b"}}))
    the_body = referring({"kind": "ClusterWorkspace", "name": "shared"})
    the_body["status"] = {"workspace": {"kind": "ClusterWorkspace", "name": "shared",
                                        "host": HOST_A}}
    assert tenancy.finalize(the_body) is None
    assert client.writes == [] and tenancy.kube.secret_reads == []
    assert tenancy.events.reasons() == [reasons.NOT_OWNED]


def test_a_workspace_whose_new_spec_is_still_being_checked_serves_on():
    tenancy = Tenancy(ScriptedClient([existing(ready=True)]))
    changed = workspace_body(status=READY)
    changed["metadata"]["generation"] = 2  # e.g. a new writeLimit, not checked yet
    tenancy.add(changed)
    assert tenancy.run(referring({"name": "dev"})).verdict.phase is Phase.READY


class Lister:
    """The API server's lists, by (plural, namespace); records what was asked."""

    def __init__(self, objects: dict[tuple[str, str | None], list[dict]]):
        self.objects, self.asked = objects, []

    async def list_objects(self, info, namespace):
        self.asked.append((info.plural, namespace))
        return self.objects.get((info.plural, namespace), [])


def _user(namespace, name, ref, recorded):
    return {"metadata": {"namespace": namespace, "name": name}, "spec": {"workspaceRef": ref},
            "status": {"owned": {"name": name}, "workspace": recorded}}


def test_the_users_of_a_workspace_are_read_from_its_namespace_when_asked():

    infos = [r.info for r in registrations(Settings()).values()]
    dev = {"kind": "Workspace", "name": "dev"}
    lister = Lister({(infos[0].plural, "ns"): [
        _user("ns", "a", {"name": "dev"}, dev),
        _user("ns", "b", {"name": "prod"}, {"kind": "Workspace", "name": "prod"}),
        {"metadata": {"namespace": "ns", "name": "c"}, "spec": {}, "status": {}}]})
    users = asyncio.run(users_of(lister, ("Workspace", "ns", "dev"), infos, ["ns", "other"]))
    assert users == {f"{infos[0].kind} ns/a"}
    assert lister.asked == [(info.plural, "ns") for info in infos], "only its own namespace"


@pytest.mark.parametrize("served, scopes", [
    (["a", "b"], ["a", "b"]), (None, [None])], ids=["named-namespaces", "all-namespaces"])
def test_the_users_of_a_cluster_workspace_are_read_where_the_operator_serves(served, scopes):

    infos = [r.info for r in registrations(Settings()).values()][:1]
    shared = {"kind": "ClusterWorkspace", "name": "shared"}
    ref = {"kind": "ClusterWorkspace", "name": "shared"}
    lister = Lister({(infos[0].plural, scope): [_user(scope or "z", f"o-{scope}", ref, shared)]
                     for scope in scopes})
    users = asyncio.run(users_of(lister, ("ClusterWorkspace", None, "shared"), infos, served))
    assert users == {f"{infos[0].kind} {scope or 'z'}/o-{scope}" for scope in scopes}
    assert lister.asked == [(infos[0].plural, scope) for scope in scopes]
