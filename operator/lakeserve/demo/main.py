"""``lakeserve demo``: the notebook's scenario end to end, printed for a person to read."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from lakeserve.demo.environment import Environment
from lakeserve.demo.scenario import (
    AB_ENDPOINT,
    FEATURE_ENDPOINT,
    ONLINE_ENDPOINT,
    DemoResult,
    Scenario,
)

STEPS = 7
FEATURE_COLUMNS = ["tenure", "MonthlyCharges", "TotalCharges", "m_charges_avrg"]


class Printer:
    def __init__(self, out=sys.stdout):
        self.out = out
        self.started = time.monotonic()

    def step(self, number: int, title: str) -> None:
        self.line(f"\n[{number}/{STEPS}] {title}")

    def say(self, text: str) -> None:
        self.line(f"      {text}")

    def line(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.0f}s"

    def table(self, frame, indent: str = "      ") -> None:
        for row in frame.to_string(index=False).splitlines():
            self.line(indent + row)


def run(workdir: Path, printer: Printer, keep: bool = False,
        inspect: Callable[[Environment, Scenario], None] | None = None) -> DemoResult:
    """The whole scenario; ``inspect`` (tests) looks around before the clean-up."""
    printer.line("lakeserve demo: the model-serving notebook, declared, on this machine")
    printer.line(f"      working directory: {workdir}")
    printer.step(1, "Local control plane, local Databricks workspace, operator")
    with Environment(workdir, printer.say, keep=keep) as env:
        printer.say(f"kube-apiserver + etcd: KUBECONFIG={env.kubeconfig}")
        printer.say(f"workspace: {env.emulator.host}   operator log: {env.operator.log_path}")
        scenario = Scenario(env, printer.say)
        printer.step(2, "Data and models (Delta tables; MLflow to databricks and "
                        "databricks-uc, as in the notebook)")
        scenario.seed_tables()
        scenario.create_database_instance()
        models = scenario.train()
        printer.step(3, "Applying the manifests in examples/ and waiting for Ready")
        objects = scenario.apply_examples()
        env.wait_ready(objects, on_change=lambda kind, name, state: printer.say(
            f"{printer.elapsed():>5}  {kind}/{name}: {state}"))
        printer.step(4, f"Part 1: A/B test on {AB_ENDPOINT} (champion/challenger 50/50)")
        ab = scenario.query_ab()
        printer.say(f"{len(ab.predictions)} records in {len(ab.requests)} batches of 100; "
                    f"requests per served model: {dict(Counter(ab.requests))}")
        printer.table(ab.table())
        printer.step(5, f"Part 2: {ONLINE_ENDPOINT}, features looked up by customerID")
        online = scenario.query_online(scenario.customer_ids())
        counts = Counter(online)
        printer.say(f"{len(online)} records carrying only customerID")
        printer.table(_counts_frame(counts))
        name, rows, path = scenario.inference_table()
        printer.step(6, "Inference table")
        printer.say(f"{name}: {rows} rows (one per request to {AB_ENDPOINT})")
        printer.say(f"Delta table at {path}")
        printer.step(7, f"Appendix: Feature Serving on {FEATURE_ENDPOINT}, features by "
                        "customerID (no model)")
        features = scenario.query_features(scenario.customer_ids(5) + ["0000-NEW"])
        printer.say(f"{len(features.columns)} features per customer; an unknown customer gets "
                    "nulls, not an error")
        printer.table(features[[c for c in FEATURE_COLUMNS if c in features]].reset_index())
        result = DemoResult(models, ab, online, features, name, rows, path)
        if inspect:
            inspect(env, scenario)
        if keep:
            printer.line("\nLeft running (--keep). To keep working with it (the token is the "
                         "local workspace's own, throwaway):")
            for line in env.handoff():
                printer.line(f"  {line}")
        else:
            printer.line("\nCleaning up: deleting the objects (the operator removes them from "
                         "the workspace), stopping everything")
            scenario.delete_examples()
    printer.line(f"Done in {printer.elapsed()}.")
    return result


def _counts_frame(counts: Counter):
    import pandas as pd

    return pd.DataFrame(sorted(counts.items(), key=lambda kv: str(kv[0])),
                        columns=["Prediction", "Count"])


def _quiet_libraries() -> None:
    """MLflow's progress lines and hints are noise in the demo's output."""
    warnings.filterwarnings("ignore", category=UserWarning, module="mlflow")
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main(args: argparse.Namespace) -> int:
    _quiet_libraries()
    workdir = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="lakeserve-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    run(workdir, Printer(), keep=args.keep)
    return 0
