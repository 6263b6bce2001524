"""Benchmark: scoring requests through the emulator vs. ``mlflow models serve``, same model, same
payloads, same client.

Trains a small DecisionTreeClassifier on synthetic churn-like data, logs it with MLflow (signature
and input example) into the emulator's registry, then serves it

  (a) through the emulator: registered version, endpoint created with the databricks-sdk, READY,
      queried at ``POST /serving-endpoints/<name>/invocations`` with the Bearer token;
  (b) with ``mlflow models serve -m <model dir> --env-manager local`` (uvicorn, 1 worker).

Both listen on 127.0.0.1 only. Each scenario (100-row ``dataframe_records`` batches, single rows;
1 and 4 concurrent clients) runs a bounded number of requests (and at most a bounded time) per
server, after a warm-up, alternating which server goes first. Prints requests/s and p50/p99
latency per scenario and server, and the server process's CPU time per request (user + system,
from /proc), which noisy neighbours on the machine disturb far less than wall-clock numbers.

    .venv/bin/python benchmarks/invocations.py [--requests 2000] [--seconds 20] [--capture]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")

MODEL = "main.default.churn_model"
ENDPOINT = "churn-benchmark"
FEATURES = ["tenure", "monthly_charges", "total_charges", "senior_citizen", "num_services",
            "contract_months", "paperless_billing"]


@dataclass
class Target:
    name: str
    port: int
    path: str
    headers: dict[str, str]
    pid: int  # the serving process (and its children): its CPU time is measured


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending += [int(child) for child in children]
        except (OSError, IndexError, ValueError):
            continue
    return total


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_seconds: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_seconds * 1000 / self.requests if self.requests else float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def churn_data(rows: int, seed: int = 7) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 73, rows)
    monthly = rng.uniform(18.0, 120.0, rows).round(2)
    contract = rng.choice([1, 12, 24], rows, p=[0.55, 0.25, 0.2])
    frame = pd.DataFrame({
        "tenure": tenure.astype("int64"),
        "monthly_charges": monthly,
        "total_charges": (tenure * monthly + rng.normal(0, 20, rows)).clip(0).round(2),
        "senior_citizen": rng.integers(0, 2, rows).astype("int64"),
        "num_services": rng.integers(1, 9, rows).astype("int64"),
        "contract_months": contract.astype("int64"),
        "paperless_billing": rng.integers(0, 2, rows).astype("int64"),
    })
    logit = (-0.05 * frame.tenure + 0.03 * frame.monthly_charges - 0.08 * frame.contract_months
             + 0.5 * frame.senior_citizen + 0.3 * frame.paperless_billing - 0.5)
    churn = pd.Series(rng.random(rows) < 1 / (1 + np.exp(-logit)), name="churn").astype(int)
    return frame[FEATURES], churn


def log_model(registry_uri: str, artifacts: Path) -> tuple[str, str]:
    """Train, log and register the model; returns (version, local model directory URI)."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.tree import DecisionTreeClassifier

    features, labels = churn_data(5000)
    model = DecisionTreeClassifier(max_depth=6, random_state=0).fit(features, labels)
    mlflow.set_tracking_uri(registry_uri)
    mlflow.set_registry_uri(registry_uri)
    experiment = mlflow.create_experiment("churn-benchmark", artifact_location=artifacts.as_uri())
    with mlflow.start_run(experiment_id=experiment):
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(features, model.predict(features)),
            input_example=features.head(5), registered_model_name=MODEL,
            skops_trusted_types=["sklearn.tree._tree.Tree"])
    client = mlflow.MlflowClient(registry_uri, registry_uri)
    version = str(info.registered_model_version)
    return version, client.get_model_version_download_uri(MODEL, version)


def start_emulator_endpoint(emulator, name: str, version: str, capture: bool = False) -> None:
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.serving import (
        AutoCaptureConfigInput,
        EndpointCoreConfigInput,
        ServedEntityInput,
    )

    workspace = WorkspaceClient(host=emulator.host, token=emulator.token, auth_type="pat")
    tables = AutoCaptureConfigInput(catalog_name="main", schema_name="default") if capture \
        else None
    workspace.serving_endpoints.create(name=name, config=EndpointCoreConfigInput(
        name=name, served_entities=[ServedEntityInput(
            name="churn", entity_name=MODEL, entity_version=version, workload_size="Small",
            scale_to_zero_enabled=False)], auto_capture_config=tables))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = workspace.serving_endpoints.get(name).state
        if state.ready.value == "READY" and state.config_update.value == "NOT_UPDATING":
            return
        time.sleep(0.2)
    raise RuntimeError("the emulator endpoint did not become READY within 120 s")


def start_mlflow_serve(model_uri: str, log_path: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    command = [str(mlflow_cli), "models", "serve", "-m", model_uri, "--env-manager", "local",
               "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    log = open(log_path, "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow models serve exited:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("mlflow models serve did not answer /ping within 120 s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(conn: http.client.HTTPConnection, target: Target, body: bytes) -> tuple[int, bytes]:
    conn.request("POST", target.path, body=body,
                 headers={"Content-Type": "application/json", **target.headers})
    response = conn.getresponse()
    return response.status, response.read()


def drive(target: Target, body: bytes, requests: int, seconds: float, clients: int,
          warmup: int) -> Result:
    """``requests`` requests over ``clients`` keep-alive connections; stops early at ``seconds``."""
    warm = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
    for _ in range(warmup):
        post(warm, target, body)
    warm.close()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
        mine: list[float] = []
        failed = 0
        while time.perf_counter() < deadline:
            with lock:
                if next(counter, None) is None:
                    break
            started = time.perf_counter()
            status, _ = post(conn, target, body)
            mine.append((time.perf_counter() - started) * 1000)
            failed += status != 200
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    cpu_before = cpu_seconds(target.pid)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return Result(len(latencies), errors[0], elapsed, latencies,
                  cpu_seconds(target.pid) - cpu_before)


def check_same_answers(targets: list[Target], body: bytes) -> None:
    answers = []
    for target in targets:
        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
        status, content = post(conn, target, body)
        conn.close()
        if status != 200:
            raise RuntimeError(f"{target.name} answered {status}: {content[:500]!r}")
        answers.append(json.loads(content)["predictions"])
    if any(answer != answers[0] for answer in answers):
        raise RuntimeError("the two servers disagree on the same payload")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario/server")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="time cap per scenario/server")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--rounds", type=int, default=4,
                        help="each scenario alternates the servers over this many rounds")
    parser.add_argument("--capture", action="store_true",
                        help="also measure an emulator endpoint logging to an inference table")
    args = parser.parse_args()

    from lakeserve.emulator.process import EmulatorProcess

    features, _ = churn_data(1000, seed=11)
    payloads = {
        "batch 100 rows": json.dumps(
            {"dataframe_records": features.head(100).to_dict(orient="records")}).encode(),
        "single row": json.dumps(
            {"dataframe_records": features.head(1).to_dict(orient="records")}).encode(),
    }
    work = Path(tempfile.mkdtemp(prefix="lakeserve-bench-"))
    try:
        with EmulatorProcess(data_dir=work / "emulator",
                             settings={"serving_create_seconds": 0.5}) as emulator:
            version, model_uri = log_model(emulator.registry_uri, work / "artifacts")
            rows = benchmark(emulator, version, model_uri, payloads, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(rows, args)
    return 0


def benchmark(emulator, version: str, model_uri: str, payloads: dict[str, bytes],
              args: argparse.Namespace, work: Path) -> list[tuple[str, int, str, Result]]:
    auth = {"Authorization": f"Bearer {emulator.token}"}
    start_emulator_endpoint(emulator, ENDPOINT, version)
    targets = [Target("emulator", emulator.port, f"/serving-endpoints/{ENDPOINT}/invocations",
                      auth, emulator.pid)]
    if args.capture:
        start_emulator_endpoint(emulator, f"{ENDPOINT}-capture", version, capture=True)
        targets.append(Target("emulator + inf. table", emulator.port,
                              f"/serving-endpoints/{ENDPOINT}-capture/invocations", auth,
                              emulator.pid))
    serve, port = start_mlflow_serve(model_uri, work / "mlflow-serve.log")
    try:
        targets.append(Target("mlflow models serve", port, "/invocations", {}, serve.pid))
        check_same_answers(targets, payloads["batch 100 rows"])
        return run_scenarios(targets, payloads, args)
    finally:
        serve.terminate()
        try:
            serve.wait(10)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(10)


def run_scenarios(targets: list[Target], payloads: dict[str, bytes],
                  args: argparse.Namespace) -> list[tuple[str, int, str, Result]]:
    """Each scenario runs in ``rounds`` rounds, alternating which server goes first, so load
    drifting on the machine affects both alike."""
    rows = []
    per_round = max(1, args.requests // args.rounds)
    for label, body in payloads.items():
        for clients in args.clients:
            results: dict[str, list[Result]] = {target.name: [] for target in targets}
            for index in range(args.rounds):
                order = targets if index % 2 == 0 else list(reversed(targets))
                for target in order:
                    results[target.name].append(drive(
                        target, body, per_round, args.seconds / args.rounds, clients,
                        args.warmup if index == 0 else 0))
            rows += [(label, clients, target.name, combine(results[target.name]))
                     for target in targets]
    return rows


def combine(results: list[Result]) -> Result:
    return Result(sum(r.requests for r in results), sum(r.errors for r in results),
                  sum(r.seconds for r in results),
                  [latency for r in results for latency in r.latencies_ms],
                  sum(r.server_cpu_seconds for r in results))


def print_table(rows: list[tuple[str, int, str, Result]], args: argparse.Namespace) -> None:
    print(f"\n{args.requests} requests (or {args.seconds:.0f} s) per scenario and server in "
          f"{args.rounds} alternating rounds, after {args.warmup} warm-up requests; python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}\n")
    header = f"| {'payload':<15} | clients | {'server':<22} | requests | errors | " \
             f"req/s   | p50 ms | p99 ms | server CPU ms/req |"
    print(header)
    print("|" + "|".join("-" * (len(part)) for part in header.split("|")[1:-1]) + "|")
    for label, clients, server, result in rows:
        print(f"| {label:<15} | {clients:>7} | {server:<22} | {result.requests:>8} | "
              f"{result.errors:>6} | {result.rps:>7.1f} | {result.percentile(0.5):>6.2f} | "
              f"{result.percentile(0.99):>6.2f} | {result.cpu_ms_per_request:>17.2f} |")


if __name__ == "__main__":
    sys.exit(main())
