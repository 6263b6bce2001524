"""The framework's ceiling: a bare kopf operator whose only handler marks a trivial object Ready.

Run by the benchmark as ``python -m kopf run --standalone --namespace NS bare_operator.py``.
Events are posted for warnings only (as lakeserve posts only the ones a user needs); the
handler's time goes into status.handledAt, for the apply -> handler latency.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import kopf

GROUP, VERSION, PLURAL, KIND = "bench.lakeserve.dev", "v1", "benchobjects", "BenchObject"

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{PLURAL}.{GROUP}"},
    "spec": {
        "group": GROUP, "scope": "Namespaced",
        "names": {"kind": KIND, "plural": PLURAL, "singular": KIND.lower()},
        "versions": [{
            "name": VERSION, "served": True, "storage": True, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            }}},
        }],
    },
}


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.posting.level = logging.WARNING


@kopf.on.create(GROUP, VERSION, PLURAL)
def ready(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    patch.status["handledAt"] = time.time()
    patch.status["observedGeneration"] = body.metadata.get("generation")
    patch.status["conditions"] = [{"type": "Ready", "status": "True", "reason": "Ready",
                                   "message": "", "observedGeneration":
                                   body.metadata.get("generation")}]
