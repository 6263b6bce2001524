"""The benchmark's tables (markdown), lakeserve beside bare kopf, with the targets checked."""

from __future__ import annotations

from scaling.procstat import MIB
from scaling.runs import Result, median, percentile

KIB = 1024


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b else "–"


def _ms_per_object(result: Result, process: str) -> float:
    return 1000 * result.cpu.get(process, 0.0) / result.n


def _operator_cpu(result: Result) -> float:
    return sum(v for k, v in result.cpu.items() if k.startswith("operator"))


def _writes_per_object(result: Result) -> float:
    return sum(v for k, v in result.k8s_writes.items() if k != "refused") / result.n


def _per_object_memory(result: Result) -> float:
    return (result.rss_settled - result.rss_idle) / result.n / KIB


def convergence_table(pairs: list[tuple[Result, Result | None]]) -> str:
    lines = ["| N | lakeserve all Ready | bare kopf | ratio | lakeserve RSS peak / settled "
             "| bare kopf RSS peak / settled | ratio (peak) |",
             "|---|---|---|---|---|---|---|"]
    for ours, bare in pairs:
        b_time = f"{bare.seconds_all_ready:.1f} s" if bare else "–"
        b_rss = f"{bare.rss_peak / MIB:.0f} / {bare.rss_settled / MIB:.0f} MiB" if bare else "–"
        lines.append(
            f"| {ours.n:,} | {ours.seconds_all_ready:.1f} s | {b_time} | "
            f"{_ratio(ours.seconds_all_ready, bare.seconds_all_ready) if bare else '–'} | "
            f"{ours.rss_peak / MIB:.0f} / {ours.rss_settled / MIB:.0f} MiB | {b_rss} | "
            f"{_ratio(ours.rss_peak, bare.rss_peak) if bare else '–'} |")
    return "\n".join(lines)


def cost_table(pairs: list[tuple[Result, Result | None]]) -> str:
    lines = ["| N | who | apply→first call p50 / p99 | time to Ready p50 / p99 | idle RSS "
             "| memory / object | K8s writes / object | operator CPU / object "
             "| API server CPU / object | etcd CPU / object | workspace CPU / object |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for ours, bare in pairs:
        for result in (ours, bare):
            if result is None:
                continue
            lines.append(
                f"| {result.n:,} | {result.label} | {median(result.first_call):.2f} / "
                f"{percentile(result.first_call, 0.99):.2f} s | {median(result.ready):.2f} / "
                f"{percentile(result.ready, 0.99):.2f} s | {result.rss_idle / MIB:.0f} MiB | "
                f"{_per_object_memory(result):.1f} KiB | {_writes_per_object(result):.2f} | "
                f"{1000 * _operator_cpu(result) / result.n:.1f} ms | "
                f"{_ms_per_object(result, 'kube-apiserver'):.1f} ms | "
                f"{_ms_per_object(result, 'etcd'):.1f} ms | "
                + (f"{_ms_per_object(result, 'workspace'):.1f} ms |" if 'workspace' in
                   result.cpu else "– |"))
    return "\n".join(lines)


def ratios(pairs: list[tuple[Result, Result | None]]) -> str:
    lines = []
    for ours, bare in pairs:
        if bare is None:
            continue
        lines.append(
            f"N={ours.n:,}: all Ready {_ratio(ours.seconds_all_ready, bare.seconds_all_ready)}, "
            f"first call p50 {_ratio(median(ours.first_call), median(bare.first_call))} "
            f"p99 {_ratio(percentile(ours.first_call, .99), percentile(bare.first_call, .99))}, "
            f"RSS peak {_ratio(ours.rss_peak, bare.rss_peak)} settled "
            f"{_ratio(ours.rss_settled, bare.rss_settled)}, operator CPU "
            f"{_ratio(_operator_cpu(ours), _operator_cpu(bare))}, API server CPU "
            f"{_ratio(ours.cpu.get('kube-apiserver', 0), bare.cpu.get('kube-apiserver', 0))}, "
            f"K8s writes {_ratio(_writes_per_object(ours), _writes_per_object(bare))}")
    return "\n".join(lines)


def first_call_rounds(rounds: list[tuple[Result, Result | None]]) -> str:
    """Apply -> first call in repeated rounds: one round of N applies lasts about a second, and
    its p50 moves several-fold between runs of the same code; the pooled samples do not."""
    lines = ["| round | N | lakeserve first call p50 / p99 | bare kopf p50 / p99 |",
             "|---|---|---|---|"]
    ours_all: list[float] = []
    bare_all: list[float] = []
    for index, (ours, bare) in enumerate(rounds, 1):
        bare_samples = bare.first_call if bare else []
        ours_all += ours.first_call
        bare_all += bare_samples
        lines.append(f"| {index} | {ours.n:,} | {_p50_p99(ours.first_call)} | "
                     f"{_p50_p99(bare_samples)} |")
    lines.append(f"| all {len(rounds)} | {len(ours_all):,} | {_p50_p99(ours_all)} | "
                 f"{_p50_p99(bare_all)} |")
    lines.append("")
    lines.append(f"Over the {len(rounds)} rounds: first call p50 "
                 f"{_ratio(median(ours_all), median(bare_all))}, p99 "
                 f"{_ratio(percentile(ours_all, .99), percentile(bare_all, .99))} bare kopf's; "
                 f"operator CPU per object {_pooled_cpu(r[0] for r in rounds):.1f} ms, bare kopf "
                 f"{_pooled_cpu(r[1] for r in rounds if r[1]):.1f} ms")
    return "\n".join(lines)


def _pooled_cpu(results) -> float:
    results = list(results)
    objects = sum(r.n for r in results)
    return 1000 * sum(_operator_cpu(r) for r in results) / objects if objects else float("nan")


def _p50_p99(samples: list[float]) -> str:
    return f"{median(samples):.2f} / {percentile(samples, 0.99):.2f} s" if samples else "–"


def writes_breakdown(results: list[Result]) -> str:
    lines = ["| run | N | Kubernetes writes per object, by request |", "|---|---|---|"]
    for result in results:
        parts = ", ".join(f"{k} {v / result.n:.2f}" for k, v in sorted(result.k8s_writes.items()))
        lines.append(f"| {result.label} | {result.n:,} | {parts} |")
    return "\n".join(lines)


def keep_table(results: list[Result]) -> str:
    lines = ["| run | N | Databricks calls per object until all Ready | reads per object "
             "before its Ready | creates per object (max) "
             "| 429s | drift interval | steady: reads / object / drift interval "
             "| steady: Databricks writes | steady: K8s writes |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for result in results:
        calls = ", ".join(f"{k} {v / result.n:.2f}" for k, v in sorted(result.calls.items()))
        before = result.extra.get("reads_before_ready")
        steady = result.steady
        lines.append(
            f"| {result.label} | {result.n:,} | {calls} | "
            f"{'–' if before is None else f'{before:.2f}'} | {result.creates_max_per_object} | "
            f"{result.throttled} | "
            + (f"{steady['seconds']:.0f} s | {steady['reads_per_object_per_interval']:.2f} | "
               f"{steady['databricks_writes']} | {steady['k8s_writes']} |"
               if steady else "– | – | – | – |"))
    return "\n".join(lines)


def shards_summary(result: Result) -> str:
    extra = result.extra
    return (f"{result.label}, N={result.n:,}: all Ready in {result.seconds_all_ready:.1f} s; "
            f"objects per shard {extra.get('objects_per_shard')}, handled by two shards: "
            f"{extra.get('objects_in_two_shards')}; creates per object (max) "
            f"{result.creates_max_per_object}; RSS peak {result.rss_peak / MIB:.0f} MiB in all; "
            f"operator CPU {1000 * _operator_cpu(result) / result.n:.1f} ms / object")


def limit_summary(result: Result, limit: int, window: float) -> str:
    times = result.extra.get("create_times") or []
    busiest = max((sum(1 for t in times if start <= t < start + window) for start in times),
                  default=0)
    rate_limited = (result.extra.get("reasons") or {}).get("RateLimited", 0)
    return (f"{result.label}, N={result.n}, limit {limit} per {window:g} s shared by the shards: "
            f"busiest {window:g} s window {busiest} creates; 429s {result.throttled}; objects "
            f"that reported RateLimited {rate_limited}; all Ready in "
            f"{result.seconds_all_ready:.1f} s")


def failures(results: list[Result]) -> str:
    lines = [f"- {r.label} N={r.n}: {failure}" for r in results for failure in r.failures]
    return "\n".join(lines) or "none"
