"""Structural CustomResourceDefinitions generated from the pydantic models.

Pydantic's JSON schema is close to what Kubernetes wants; this module inlines ``$ref``s, turns
``Optional[X]`` into ``X``, drops titles and null defaults, and wraps spec and status into a CRD
with printer columns, short names and the ``lakeserve`` category.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel

from lakeserve.api.common import CATEGORY, GROUP, VERSION

_DROPPED_KEYS = {"title", "discriminator"}


@dataclass(frozen=True)
class KindInfo:
    """Everything needed to register a kind: names, models and how kubectl shows it."""

    kind: str
    plural: str
    singular: str
    short_names: list[str]
    spec_model: type[BaseModel]
    status_model: type[BaseModel]
    description: str
    printer_columns: list[dict[str, Any]] = field(default_factory=list)
    root_validations: list[dict[str, Any]] = field(default_factory=list)
    cluster_scoped: bool = False

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"


def ready_columns(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """READY and REASON from the Ready condition, the kind's own columns, then AGE."""
    return [
        {"name": "Ready", "type": "string",
         "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
         "description": "Whether Databricks matches the spec and is serving."},
        {"name": "Reason", "type": "string",
         "jsonPath": '.status.conditions[?(@.type=="Ready")].reason',
         "description": "Why the object is (not) ready."},
        *extra,
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]


def structural_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI v3 schema Kubernetes accepts for a pydantic model."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    definitions = raw.pop("$defs", {})
    return _clean(raw, definitions)


def _clean(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_clean(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    node = _unwrap_optional(dict(node))
    while "$ref" in node:
        target = copy.deepcopy(definitions[node.pop("$ref").split("/")[-1]])
        # Sibling keys (a field's description) win over the referenced model's own.
        node = _unwrap_optional({**target, **node})
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if node.get("default", "") is None:
        node.pop("default")
    cleaned = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS:
            continue
        if key == "properties":
            cleaned[key] = {name: _clean(sub, definitions) for name, sub in value.items()}
        else:
            cleaned[key] = _clean(value, definitions)
    if "enum" in cleaned and "type" not in cleaned:
        cleaned["type"] = "string"
    return _ordered(cleaned)


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    """type and description first, so the YAML reads well; the rest as generated."""
    first = [key for key in ("type", "description") if key in node]
    return {**{key: node[key] for key in first},
            **{key: value for key, value in node.items() if key not in first}}


def _unwrap_optional(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, {type: null}]`` becomes X, keeping the outer description and default."""
    options = node.get("anyOf")
    if not options:
        return node
    non_null = [option for option in options if option.get("type") != "null"]
    if len(non_null) != 1:
        raise ValueError(f"unsupported union in schema: {options}")
    outer = {key: value for key, value in node.items() if key != "anyOf"}
    return {**non_null[0], **outer}


def custom_resource_definition(info: KindInfo) -> dict[str, Any]:
    spec_schema = structural_schema(info.spec_model)
    status_schema = structural_schema(info.status_model)
    # An object the operator has not seen yet must not look finished: kstatus reads a missing
    # status as Current, an observedGeneration behind metadata.generation as InProgress.
    status_schema["default"] = {"observedGeneration": 0}
    root: dict[str, Any] = {
        "type": "object",
        "description": info.description,
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string", "description": "API version of the object."},
            "kind": {"type": "string", "description": "Kind of the object."},
            "metadata": {"type": "object"},
            "spec": spec_schema,
            "status": status_schema,
        },
    }
    if info.root_validations:
        root["x-kubernetes-validations"] = info.root_validations
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": info.crd_name},
        "spec": {
            "group": GROUP,
            "names": {
                "kind": info.kind,
                "listKind": f"{info.kind}List",
                "plural": info.plural,
                "singular": info.singular,
                "shortNames": info.short_names,
                "categories": [CATEGORY],
            },
            "scope": "Cluster" if info.cluster_scoped else "Namespaced",
            "versions": [{
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": info.printer_columns,
                "schema": {"openAPIV3Schema": root},
            }],
        },
    }


def render(infos: list[KindInfo]) -> dict[str, str]:
    """File name -> YAML text, one file per kind, sorted by file name.

    Each file starts a YAML document, so ``cat crds/*.yaml`` is exactly what ``lakeserve crds``
    prints, and either can be piped to ``kubectl apply -f -``.
    """
    files = {}
    for info in infos:
        body = yaml.safe_dump(custom_resource_definition(info), sort_keys=False, width=100)
        files[f"{info.crd_name}.yaml"] = \
            "---\n# Generated by `lakeserve crds`; do not edit.\n" + body
    return dict(sorted(files.items()))
