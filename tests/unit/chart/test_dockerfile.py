"""The Dockerfile's entry command, user and dependencies agree with the chart and the e2e test.

No container engine runs here, so this reads the Dockerfile; tests/e2e/chart/
test_image_entrypoint.py runs the same entry command from a venv built like the image's.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

pytestmark = pytest.mark.timeout(30)

REPO = Path(__file__).resolve().parents[3]
CHART = REPO / "charts" / "lakeserve"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            logical.append(current)
            current = ""
    return [(entry.split(None, 1)[0].upper(), entry.split(None, 1)[1]) for entry in logical]


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction, args in instructions(text):
        if instruction == "FROM":
            result.append([])
        if result:
            result[-1].append((instruction, args))
    return result


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def runtime(dockerfile) -> dict[str, list[str]]:
    final = stages(dockerfile)[-1]
    found: dict[str, list[str]] = {}
    for instruction, args in final:
        found.setdefault(instruction, []).append(args)
    return found


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((CHART / "values.yaml").read_text())


def exec_form(args: str) -> list[str]:
    parsed = json.loads(args)
    assert isinstance(parsed, list), f"not the exec (JSON) form: {args}"
    return parsed


def test_two_stages_on_a_slim_python_311(dockerfile):
    assert len(stages(dockerfile)) == 2
    default = re.search(r"^ARG PYTHON_IMAGE=(\S+)", dockerfile, re.M)
    assert default and re.fullmatch(r"python:3\.11-slim(-\w+)?", default[1]), default
    froms = [args.split()[0] for instruction, args in instructions(dockerfile)
             if instruction == "FROM"]
    assert froms == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"], "both stages on the same base"


def test_the_venv_gets_the_runtime_dependencies_only(dockerfile):
    runs = " ".join(args for i, args in stages(dockerfile)[0] if i == "RUN")
    installs = [i.strip() for i in re.findall(r"pip install ([^&;]+)", runs)]
    assert installs == ["."], f"exactly `pip install .` (no extras): {installs}"
    pyproject = (REPO / "pyproject.toml").read_text()
    assert "[project.optional-dependencies]" in pyproject, "extras exist, and are left out"


def test_entrypoint_is_lakeserve_run_with_the_liveness_endpoint_as_cmd(runtime):
    assert [exec_form(e) for e in runtime["ENTRYPOINT"]] == [["lakeserve", "run"]]
    assert [exec_form(c) for c in runtime["CMD"]] == [["--liveness",
                                                        "http://0.0.0.0:8080/healthz"]]


def test_user_is_numeric_and_the_chart_runs_as_it(runtime, values):
    (user,) = runtime["USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) > 0, user
    pod = values["podSecurityContext"]
    assert (pod["runAsUser"], pod["runAsGroup"], pod["runAsNonRoot"]) == (int(uid), int(gid), True)
    assert values["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_chart_args_repeat_the_cmd_and_probe_its_port(runtime, values):
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    liveness_url = re.search(r'define "lakeserve.livenessURL" -}}\s*(\S+)\s*{{-', helpers)[1]
    health_port = re.search(r'define "lakeserve.healthPort" -}}\s*(\S+)\s*{{-', helpers)[1]
    (cmd,) = [exec_form(c) for c in runtime["CMD"]]
    assert cmd == ["--liveness", liveness_url]
    assert urlparse(liveness_url).port == int(health_port)
    assert urlparse(liveness_url).path == "/healthz"
    deployment = (CHART / "templates" / "deployment.yaml").read_text()
    assert re.search(r"args:\s*- --liveness\s*- {{ include \"lakeserve.livenessURL\" \. }}",
                     deployment), "the chart's args start with the Dockerfile's CMD"
    assert deployment.count("path: /healthz") == 2, "liveness and readiness probes on /healthz"


def test_exposed_ports_and_metrics_default_match_the_chart(runtime, values):
    exposed = {int(p) for args in runtime["EXPOSE"] for p in args.split()}
    env = dict(pair.split("=", 1) for args in runtime["ENV"] for pair in shlex.split(args))
    assert exposed == {8080, values["metrics"]["port"]}
    assert int(env["LAKESERVE_METRICS_PORT"]) == values["metrics"]["port"]


def test_nothing_is_written_outside_tmp(runtime):
    env = dict(pair.split("=", 1) for args in runtime["ENV"] for pair in shlex.split(args))
    assert env["PYTHONDONTWRITEBYTECODE"] == "1", "no __pycache__ writes on a read-only root"
    assert env["HOME"] == "/tmp"
    assert runtime["WORKDIR"] == ["/tmp"]


def test_the_build_context_holds_what_the_copies_need(dockerfile):
    ignore = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*", "an allowlist: nothing reaches the build context unless listed"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = set()
    for instruction, args in stages(dockerfile)[0]:
        if instruction == "COPY" and "--from" not in args:
            copied.update(a.rstrip("/") for a in args.split()[:-1])
    assert copied == allowed, (copied, allowed)
    for path in copied:
        assert (REPO / path).exists(), path
