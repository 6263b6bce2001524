"""The demo's optional step (``lakeserve demo --canary``): @champion moves to the challenger's
version under a canary rollout, with traffic flowing, and each step of the rollout is shown.

The A/B endpoint gets ``spec.rollout``; then the alias moves in the registry (no manifest
change). The operator serves the new version beside the old one as ``champion-canary``, raises
its share step by step, checks its error rate and latency in the endpoint metrics export, and
promotes it. Short pauses and intervals keep the step to well under a minute.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lakeserve.demo.environment import OPERATOR_SETTINGS, Environment
from lakeserve.demo.scenario import AB_ENDPOINT, MODEL
from lakeserve.demo.training import Registered

ROLLOUT = {
    "strategy": "Canary",
    "steps": [{"trafficPercentage": 25, "pause": "4s"}, {"trafficPercentage": 50, "pause": "4s"}],
    "analysis": {"interval": "2s", "failureLimit": 1, "minRequests": 5,
                 "metrics": [{"name": "errorRate", "max": 0.05},
                             {"name": "latencyP99Ms", "max": 1000}]},
}
KIND = "servingendpoint"


@dataclass
class CanaryResult:
    stages: list[str] = field(default_factory=list)  # each rollout state shown, in order
    config_updates: list[dict[str, Any]] = field(default_factory=list)  # routes of each sent
    served: dict[str, str] = field(default_factory=dict)  # served entity -> version, at the end
    answered: Counter = field(default_factory=Counter)  # served entity -> requests meanwhile


def run_canary(env: Environment, say: Callable[[str], None], models: list[Registered],
               rows: list[dict[str, Any]], timeout: float = 180) -> CanaryResult:
    champion = next(m for m in models if m.alias == "champion")
    challenger = next(m for m in models if m.alias == "challenger")
    env.kubectl("patch", KIND, AB_ENDPOINT, "-n", env.namespace, "--type", "merge",
                "-p", json.dumps({"spec": {"rollout": ROLLOUT}}))
    steps = ", ".join(f"{s['trafficPercentage']}%" for s in ROLLOUT["steps"])
    say(f"spec.rollout on {AB_ENDPOINT}: canary steps {steps}, each checked every "
        f"{ROLLOUT['analysis']['interval']} (errorRate <= 5%, latencyP99Ms <= 1000)")
    since = env.emulator.control("GET", "/_emulator/calls")["last_seq"]
    result = CanaryResult()
    with _Traffic(env, rows, result.answered):
        env.workspace.registered_models.set_alias(MODEL, "champion", challenger.version)
        say(f"@champion moved from version {champion.version} to {challenger.version} "
            "(the challenger's) while traffic flows; the operator sees it at its next look "
            f"(every {OPERATOR_SETTINGS['drift_interval']}s here)")
        body = _follow(env, say, result.stages, timeout)
    result.served = {e["name"]: e.get("entityVersion")
                     for e in body["status"].get("servedEntities") or []}
    result.config_updates = _config_updates(env, since)
    say(f"{len(result.config_updates)} config updates (one per step, one to promote); "
        f"requests answered meanwhile: {dict(sorted(result.answered.items()))}")
    return result


def _follow(env: Environment, say: Callable[[str], None], stages: list[str],
            timeout: float) -> dict[str, Any]:
    """Show each new state of the rollout until it is promoted (or fails)."""
    started, deadline = time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = env.get(KIND, AB_ENDPOINT) or {}
        status = body.get("status") or {}
        stalled = _true_condition(status, "Stalled")
        if stalled:
            raise RuntimeError(f"the rollout stalled: {stalled['reason']}: {stalled['message']}")
        if status.get("rollout"):
            stage = _stage(status["rollout"])
            if not stages or stages[-1] != stage:
                stages.append(stage)
                say(f"{time.monotonic() - started:>5.0f}s  {stage}")
        elif stages and _true_condition(status, "Ready"):  # the rollout seen is over
            served = ", ".join(f"{e['name']} v{e.get('entityVersion')}"
                               for e in status.get("servedEntities") or [])
            say(f"{time.monotonic() - started:>5.0f}s  Ready: {served}")
            return body
        time.sleep(0.5)
    raise TimeoutError(f"the canary on {AB_ENDPOINT} was not promoted in {timeout:.0f}s")


def _stage(rollout: dict[str, Any]) -> str:
    text = rollout["phase"]
    if rollout.get("step"):
        text += f" step {rollout['step']}/{rollout['steps']}"
    text += " (" + ", ".join(f"{w['servedEntityName']} {w['trafficPercentage']}%"
                             for w in rollout.get("weights") or []) + ")"
    last = rollout.get("lastAnalysis")
    return f"{text}; last check {last['result']}: {last['message']}" if last else text


def _true_condition(status: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or []
                 if c["type"] == type_ and c["status"] == "True"), None)


def _config_updates(env: Environment, since: int) -> list[dict[str, Any]]:
    calls = env.emulator.control("GET", f"/_emulator/calls?since={since}")["calls"]
    return [{r["served_entity_name"]: r["traffic_percentage"]
             for r in call["body"]["traffic_config"]["routes"]}
            for call in calls if call["method"] == "PUT"
            and call["path"].endswith(f"/serving-endpoints/{AB_ENDPOINT}/config")]


class _Traffic:
    """Queries the endpoint one record at a time from a thread, counting who answered."""

    def __init__(self, env: Environment, rows: list[dict[str, Any]], answered: Counter):
        self._env, self._rows, self._answered = env, rows, answered
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        index = 0
        while not self._stop.is_set():
            row = self._rows[index % len(self._rows)]
            index += 1
            try:
                response = self._env.workspace.serving_endpoints.query(
                    name=AB_ENDPOINT, dataframe_records=[row])
                self._answered[response.served_model_name] += 1
            except Exception:  # noqa: BLE001 - an error answer is traffic too; it is counted
                self._answered["error"] += 1
            self._stop.wait(0.02)

    def __enter__(self) -> _Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(15)
