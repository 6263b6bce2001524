"""One measured run: N objects applied at once to a fresh namespace, until all are Ready."""

from __future__ import annotations

import re
import statistics
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from scaling import bare_operator
from scaling.audit import AuditLog
from scaling.load import Kind, ReadyWatch, apply_all, create_namespace
from scaling.operators import BareOperator, lakeserve_operator
from scaling.procstat import CpuMeter, memory

from lakeserve.devcluster import DevCluster
from lakeserve.emulator.process import EmulatorProcess

SERVING = Kind("lakeserve.dev", "v1alpha1", "servingendpoints")
BARE = Kind(bare_operator.GROUP, bare_operator.VERSION, bare_operator.PLURAL)
MODEL = "main.bench.scale_model"
SHARD_LABEL = "lakeserve.dev/shard"
CREATE = "POST /api/2.0/serving-endpoints"
IDLE_SECONDS = 5.0  # after start-up, before the idle RSS is read
SETTLE_SECONDS = 5.0  # after the last object is Ready: trailing events, then the settled RSS


@dataclass
class Environment:
    cluster: DevCluster
    workdir: Path
    audit: AuditLog

    @property
    def kubeconfig(self) -> str:
        return str(self.cluster.kubeconfig)

    def control_plane_pids(self) -> dict[str, int]:
        return {p.name: p.pid for p in self.cluster.processes()
                if p.name in ("kube-apiserver", "etcd")}


@dataclass
class Result:
    label: str
    n: int
    seconds_all_ready: float = 0.0
    ready: list[float] = field(default_factory=list)  # per object: create answered -> Ready
    first_call: list[float] = field(default_factory=list)  # create answered -> first call
    rss_idle: int = 0
    rss_peak: int = 0
    rss_settled: int = 0
    cpu: dict[str, float] = field(default_factory=dict)
    k8s_writes: Counter = field(default_factory=Counter)
    calls: Counter = field(default_factory=Counter)  # Databricks calls by "METHOD path-shape"
    creates_max_per_object: int = 0
    throttled: int = 0  # 429 answers
    steady: dict[str, float] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def endpoint(name: str, labels: dict[str, str] | None = None) -> dict:
    return {"apiVersion": "lakeserve.dev/v1alpha1", "kind": "ServingEndpoint",
            "metadata": {"name": name, **({"labels": labels} if labels else {})},
            "spec": {"config": {"servedEntities": [
                {"entityName": MODEL, "entityVersion": "1", "workloadSize": "Small",
                 "scaleToZeroEnabled": True}]}}}


def bare_object(name: str) -> dict:
    return {"apiVersion": f"{BARE.group}/{BARE.version}", "kind": bare_operator.KIND,
            "metadata": {"name": name}, "spec": {"model": MODEL, "version": "1"}}


def emulator(write_limit: int = 0, window: float = 300.0) -> EmulatorProcess:
    process = EmulatorProcess(persist=False, settings={
        "serving_create_seconds": 1.0,
        "write_limit": {"limit": write_limit, "window_seconds": window}}).start()
    process.control("POST", "/_emulator/registry/model-versions", {"name": MODEL})
    return process


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def namespace(prefix: str, n: int) -> str:
    return f"{prefix}-{n}-{uuid.uuid4().hex[:5]}"


def warm_up(env: Environment, n: int) -> None:
    """n objects of each kind created in a namespace no operator serves, and left there. The
    API server's first writes of a custom resource cost more than the ones after (its
    validation and field tracking of that CRD warm up); without this, the first measured run
    pays for that: in one trial the first-call p50 of the first 100-object run was 0.18 s, and
    0.10 s after 100 creates like these (later runs: 0.06-0.07 s either way)."""
    for kind, body in ((SERVING, endpoint), (BARE, bare_object)):
        ns = namespace("warm-up", n)
        create_namespace(env.kubeconfig, ns)
        apply_all(env.kubeconfig, kind, ns, [body(f"warm-{i:05d}") for i in range(n)])


# ---- the bare kopf run ------------------------------------------------------------------

def run_bare(env: Environment, n: int) -> Result:
    result, ns = Result("bare kopf", n), namespace("bare", n)
    create_namespace(env.kubeconfig, ns)
    operator = BareOperator(env.kubeconfig, ns, env.workdir / f"{ns}.log").start()
    try:
        time.sleep(IDLE_SECONDS)
        result.rss_idle = memory(operator.pid).rss
        bodies = [bare_object(f"obj-{i:05d}") for i in range(n)]
        watch, created = _apply(env, BARE, ns, bodies, {"operator": operator.pid},
                                       result)
        result.first_call = [watch.bodies[name]["status"]["handledAt"] - created[name]
                             for name in created if name in watch.ready_at]
        _settle(env, ns, operator.pid, result)
    finally:
        operator.stop()
    return result


# ---- lakeserve runs -----------------------------------------------------------------------

def run_lakeserve(env: Environment, n: int, settings: dict[str, str], shards: int = 1,
                  label: str = "lakeserve", write_limit: int = 0, window: float = 300.0,
                  steady_seconds: float = 0.0) -> Result:
    result, ns = Result(label, n), namespace("ls", n)
    create_namespace(env.kubeconfig, ns)
    workspace = emulator(write_limit, window)
    operators = [lakeserve_operator(
        env.kubeconfig, workspace.host, workspace.token, env.workdir / f"{ns}-shard{i}.log", ns,
        settings, {"LAKESERVE_SHARD_INDEX": str(i), "LAKESERVE_SHARD_COUNT": str(shards)}
        if shards > 1 else None) for i in range(shards)]
    try:
        for operator in operators:
            operator.start()
        time.sleep(IDLE_SECONDS)
        result.rss_idle = sum(memory(op.pid).rss for op in operators)
        bodies = [endpoint(f"se-{i:05d}", {SHARD_LABEL: str(i % shards)} if shards > 1 else None)
                  for i in range(n)]
        seq = _last_seq(workspace)
        pids = {f"operator{i}" if shards > 1 else "operator": op.pid
                for i, op in enumerate(operators)}
        watch, created = _apply(env, SERVING, ns, bodies,
                                       {**pids, "workspace": workspace.pid}, result)
        _databricks_calls(workspace, seq, created, watch.ready_at, result)
        _settle(env, ns, [op.pid for op in operators], result)
        result.extra["reasons"] = _reasons_seen(watch)
        if shards > 1:
            _check_disjoint(operators, ns, n, result)
        if steady_seconds:
            _steady(env, workspace, ns, n, steady_seconds, float(settings["drift_interval"]),
                    result)
    finally:
        for operator in operators:
            operator.stop()
        workspace.stop()
    return result


def _last_seq(workspace: EmulatorProcess) -> int:
    return workspace.control("GET", "/_emulator/calls?since=999999999")["last_seq"]


def _apply(env: Environment, kind: Kind, ns: str, bodies: list[dict], pids: dict[str, int],
           result: Result):
    watch = ReadyWatch(env.kubeconfig, kind, ns).start()
    meter = CpuMeter({**pids, **env.control_plane_pids()}).start()
    env.audit.mark()
    started = time.time()
    created = apply_all(env.kubeconfig, kind, ns, bodies)
    names = set(created)
    if not watch.wait_all(names, timeout=120 + 0.5 * len(names)):
        result.failures.append(f"only {len(watch.ready_at)} of {len(names)} became Ready")
    result.cpu = meter.stop()
    result.seconds_all_ready = max(watch.ready_at.values(), default=started) - started
    result.ready = [watch.ready_at[name] - created[name] for name in created
                    if name in watch.ready_at]
    watch.stop()
    return watch, created


def _settle(env: Environment, ns: str, pids, result: Result) -> None:
    pids = pids if isinstance(pids, list) else [pids]
    result.rss_peak = sum(memory(pid).peak for pid in pids)
    time.sleep(SETTLE_SECONDS)
    result.rss_settled = sum(memory(pid).rss for pid in pids)
    result.k8s_writes = env.audit.writes([ns])


def _shape(method: str, path: str) -> str:
    return f"{method} " + re.sub(r"^(/api/2\.0/serving-endpoints)/[^/]+", r"\1/{name}", path)


def _databricks_calls(workspace: EmulatorProcess, seq: int, created: dict[str, float],
                      ready_at: dict[str, float], result: Result) -> None:
    """Calls until all objects are Ready (these include the drift reads of objects Ready
    early, when the run outlasts a drift interval) and reads of each object before its own
    Ready."""
    calls = workspace.control("GET", f"/_emulator/calls?since={seq}", timeout=120)["calls"]
    first: dict[str, float] = {}
    creates: Counter = Counter()
    reads_before_ready = 0
    for call in calls:
        result.calls[_shape(call["method"], call["path"])] += 1
        result.throttled += call["status"] == 429
        name = _endpoint_of(call)
        if name:
            first.setdefault(name, call["time"])
            reads_before_ready += call["method"] == "GET" and \
                call["time"] <= ready_at.get(name, float("inf"))
            if f"{call['method']} {call['path']}" == CREATE and call["status"] < 400:
                creates[name] += 1
    result.first_call = [first[name] - at for name, at in created.items() if name in first]
    result.creates_max_per_object = max(creates.values(), default=0)
    result.extra["reads_before_ready"] = reads_before_ready / max(1, len(created))
    missing = len(created) - len(creates)
    if missing:
        result.failures.append(f"{missing} objects were never created in the workspace")
    result.extra["create_times"] = sorted(c["time"] for c in calls
                                          if f"{c['method']} {c['path']}" == CREATE
                                          and c["status"] < 400)


def _endpoint_of(call: dict) -> str | None:
    match = re.match(r"^/api/2\.0/serving-endpoints/([^/]+)", call["path"])
    if match:
        return match.group(1)
    if call["path"] == "/api/2.0/serving-endpoints":
        return (call.get("body") or {}).get("name")
    return None


def _reasons_seen(watch: ReadyWatch) -> dict[str, int]:
    counts: Counter = Counter()
    for reasons in watch.reasons.values():
        counts.update(reasons)
    return dict(counts)


def _check_disjoint(operators, ns: str, n: int, result: Result) -> None:
    """Each object is named in exactly one shard's log."""
    pattern = re.compile(rf"ServingEndpoint {re.escape(ns)}/(se-\d+)")
    seen = [set(pattern.findall(op.log_path.read_text(errors="replace"))) for op in operators]
    both = set.intersection(*seen)
    result.extra["objects_per_shard"] = [len(s) for s in seen]
    result.extra["objects_in_two_shards"] = len(both)
    if both:
        result.failures.append(f"{len(both)} objects were handled by more than one shard")
    if len(set.union(*seen)) != n:
        result.failures.append(f"only {len(set.union(*seen))} of {n} objects seen by a shard")


def _steady(env: Environment, workspace: EmulatorProcess, ns: str, n: int, seconds: float,
            drift: float, result: Result) -> None:
    """Calls and Kubernetes writes over ``seconds`` once everything is Ready."""
    seq = _last_seq(workspace)
    env.audit.mark()
    time.sleep(seconds)
    calls = workspace.control("GET", f"/_emulator/calls?since={seq}", timeout=120)["calls"]
    reads = sum(1 for c in calls if c["method"] == "GET")
    result.steady = {
        "seconds": seconds,
        "reads_per_object_per_interval": reads / n / (seconds / drift),
        "databricks_writes": sum(1 for c in calls if c["method"] != "GET"),
        "k8s_writes": sum(env.audit.writes([ns]).values()),
    }
