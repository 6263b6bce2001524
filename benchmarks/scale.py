"""Benchmark: N ServingEndpoints applied at once, lakeserve beside a bare kopf operator.

One invocation starts a dev cluster (kube-apiserver + etcd, with an audit log of writes), writes
100 objects of each kind there to warm the API server up (``warm_up``) and, for each N, in a
fresh namespace each:

  * lakeserve: the operator as a process against a fresh local workspace (write limit off,
    endpoints provisioned in 1 s); N endpoints created by 8 concurrent clients;
  * bare kopf: a kopf operator whose only handler marks a trivial object Ready (the framework's
    ceiling), N objects applied the same way;

and measures, per object, the time from its create to Ready (status.observedGeneration ==
metadata.generation and Ready=True) and to the first Databricks call (the handler call for bare
kopf), the operator's RSS (idle, peak, settled), CPU seconds of the operator, kube-apiserver,
etcd and the workspace, Kubernetes writes (audit log), and Databricks calls (the workspace's
call log) -- then, once all are Ready, one drift interval of steady state. Then two lakeserve
shards (label lakeserve.dev/shard) converge N objects, and two shards share a write limit.

    .venv/bin/python benchmarks/scale.py [--n 200,1000,5000] [--shards-n 5000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import yaml  # noqa: E402
from scaling import bare_operator, report  # noqa: E402
from scaling.audit import AuditLog, write_policy  # noqa: E402
from scaling.runs import Environment, Result, run_bare, run_lakeserve, warm_up  # noqa: E402

from lakeserve.devcluster import DevCluster, find_kubectl  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WARM_UP_N = 100  # objects of each kind written before the first measured run
DRIFT_PER_OBJECT = 0.03  # seconds of drift interval per object of a run, at least


def _numbers(text: str) -> list[int]:
    return [int(part) for part in text.replace("_", "").split(",") if part.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=_numbers, default=[200, 1000, 5000],
                        help="object counts, comma-separated")
    parser.add_argument("--shards-n", type=int, default=5000,
                        help="objects for the two-shard run (0 skips it)")
    parser.add_argument("--limit-n", type=int, default=100,
                        help="objects for the shared write-limit run (0 skips it)")
    parser.add_argument("--limit-window", type=float, default=20.0,
                        help="window of the write-limit run, seconds (limit: 50 per window)")
    parser.add_argument("--drift", type=float, default=60.0,
                        help="the operator's drift interval, at least (longer for large N, "
                             "see drift_interval); the steady state is measured over one "
                             "interval (0 skips it)")
    parser.add_argument("--latency-n", type=int, default=100,
                        help="simultaneous applies per round of the first-call comparison")
    parser.add_argument("--latency-rounds", type=int, default=5,
                        help="rounds of the first-call comparison, lakeserve and bare kopf "
                             "alternating (0 skips it)")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare kopf runs")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--workdir", type=Path, help="keep logs here (a temp dir otherwise)")
    return parser.parse_args(argv)


def start_environment(workdir: Path) -> Environment:
    cluster = DevCluster(workdir / "cluster", audit_policy=write_policy(workdir))
    cluster.up()
    kubectl = [str(find_kubectl()), f"--kubeconfig={cluster.kubeconfig}"]
    bare_crd = workdir / "bare-crd.yaml"
    bare_crd.write_text(yaml.safe_dump(bare_operator.CRD))
    for source in (REPO / "crds", bare_crd):
        subprocess.run(kubectl + ["apply", "--server-side", "-f", str(source)], check=True,
                       capture_output=True)
        subprocess.run(kubectl + ["wait", "--for=condition=Established", "--timeout=60s",
                                  "-f", str(source)], check=True, capture_output=True)
    return Environment(cluster, workdir, AuditLog(cluster.audit_log))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="lakeserve-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    settings = {"write_limit": "0"}
    env = start_environment(workdir)
    warm_up(env, WARM_UP_N)
    started = time.monotonic()
    pairs: list[tuple[Result, Result | None]] = []
    rounds: list[tuple[Result, Result | None]] = []
    extra: list[Result] = []
    try:
        for index, n in enumerate(args.n):
            drift = drift_interval(args.drift, n)
            pairs.append(_pair(env, n, {**settings, "drift_interval": str(drift or 300)},
                               drift, args.no_bare, index))
            _progress(pairs[-1], started)
        for index in range(0 if args.no_bare else args.latency_rounds):
            # Short runs: the steady state was measured above.
            rounds.append(_pair(env, args.latency_n, {**settings, "drift_interval": "300"},
                                0.0, False, index))
            _progress(rounds[-1], started)
        if args.shards_n:
            drift = drift_interval(args.drift, args.shards_n) or 300
            extra.append(run_lakeserve(env, args.shards_n,
                                       {**settings, "drift_interval": str(drift)}, shards=2,
                                       label="lakeserve, 2 shards"))
            _progress((extra[-1], None), started)
        if args.limit_n:
            limited = {**settings, "drift_interval": "300", "write_limit": "50",
                       "write_window": str(args.limit_window)}
            extra.append(run_lakeserve(env, args.limit_n, limited, shards=2, write_limit=50,
                                       window=args.limit_window,
                                       label="lakeserve, 2 shards, write limit"))
    finally:
        env.cluster.down()
    _print(args, pairs, rounds, extra, time.monotonic() - started, workdir)
    if args.json:
        args.json.write_text(json.dumps([_as_json(r) for pair in pairs for r in pair if r]
                                        + [_as_json(r) for r in extra]
                                        + [{**_as_json(r), "round": True}
                                           for pair in rounds for r in pair if r],
                                        default=list, indent=1))
    results = [r for pair in pairs + rounds for r in pair if r] + extra
    return 1 if any(r.failures for r in results) else 0


def drift_interval(least: float, n: int) -> float:
    """The operator's drift interval for a run of n objects: ``least``, and at least 30 ms per
    object (150 s at 5,000), so that it outlasts the run's convergence (95-99 s at 5,000 here).
    A shorter one would put drift reads of the objects Ready early into the figures of the
    convergence -- work bare kopf does not do, and that a user at the default interval (300 s)
    would not see in those seconds. 0: no steady state measured."""
    return max(least, DRIFT_PER_OBJECT * n) if least else 0.0


def _pair(env: Environment, n: int, settings: dict[str, str], steady: float, no_bare: bool,
          index: int) -> tuple[Result, Result | None]:
    """lakeserve and bare kopf with n objects each; which goes first alternates with index, so
    that a noisy neighbour does not always hit the same one."""
    if no_bare:
        return run_lakeserve(env, n, settings, steady_seconds=steady), None
    if index % 2:
        bare = run_bare(env, n)
        return run_lakeserve(env, n, settings, steady_seconds=steady), bare
    return run_lakeserve(env, n, settings, steady_seconds=steady), run_bare(env, n)


def _as_json(result: Result) -> dict:
    # Not dataclasses.asdict: it rebuilds a Counter from (key, value) pairs, counting the pairs.
    return {name: dict(value) if isinstance(value, dict) else value
            for name, value in vars(result).items()}


def _progress(pair: tuple[Result, Result | None], started: float) -> None:
    ours, bare = pair
    line = f"[{time.monotonic() - started:.0f}s] {ours.label} N={ours.n}: " \
           f"{ours.seconds_all_ready:.1f} s"
    if bare:
        line += f"; bare kopf {bare.seconds_all_ready:.1f} s"
    print(line, file=sys.stderr, flush=True)


def _print(args, pairs, rounds, extra, seconds: float, workdir: Path) -> None:
    results = [r for pair in pairs for r in pair if r] + extra
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\n## Scale ({seconds / 60:.1f} min, load average {' '.join(load)}, logs in "
          f"{workdir})\n")
    print(report.convergence_table(pairs), "\n")
    print(report.cost_table(pairs), "\n")
    print(report.ratios(pairs), "\n")
    if rounds:
        print(report.first_call_rounds(rounds), "\n")
    print(report.writes_breakdown(results), "\n")
    print(report.keep_table([r for r in results if "write limit" not in r.label]), "\n")
    for result in extra:
        if "write limit" in result.label:
            print(report.limit_summary(result, 50, args.limit_window))
        else:
            print(report.shards_summary(result))
    print("\nfailures:", report.failures(results + [r for pair in rounds for r in pair if r]))


if __name__ == "__main__":
    raise SystemExit(main())
