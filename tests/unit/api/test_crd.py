"""The CRDs are generated from the pydantic models; these tests keep them honest."""

from pathlib import Path

import pytest
import yaml

from lakeserve.api import KINDS
from lakeserve.api.crd import render

CRD_DIR = Path(__file__).resolve().parents[3] / "crds"


def test_committed_crds_match_the_models():
    generated = render(KINDS)
    committed = {p.name: p.read_text() for p in CRD_DIR.glob("*.yaml")}
    assert committed == generated, "crds/ is stale: run `make crds`"


def walk(schema, path="$"):
    yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from walk(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from walk(schema["additionalProperties"], f"{path}{{}}")


@pytest.mark.parametrize("info", KINDS, ids=[k.kind for k in KINDS])
def test_every_field_is_typed_and_described(info):
    schema = yaml.safe_load(render([info])[f"{info.crd_name}.yaml"])
    root = schema["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for part in ("spec", "status"):
        for path, node in walk(root["properties"][part], f"{part}"):
            assert "type" in node, f"{path} has no type (not structural)"
            if not path.endswith(("[]", "{}")):
                assert node.get("description"), f"{path} has no description"
            assert "$ref" not in node and "anyOf" not in node, path


@pytest.mark.parametrize("info", KINDS, ids=[k.kind for k in KINDS])
def test_kubectl_sees_status_columns_and_category(info):
    crd = yaml.safe_load(render([info])[f"{info.crd_name}.yaml"])
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    assert columns[:2] == ["Ready", "Reason"] and columns[-1] == "Age"
    assert "lakeserve" in crd["spec"]["names"]["categories"]
    assert crd["spec"]["names"]["shortNames"]


def test_serving_endpoint_has_url_column():
    crd = yaml.safe_load(render(KINDS)["servingendpoints.lakeserve.dev.yaml"])
    columns = {c["name"]: c for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]}
    assert columns["URL"]["jsonPath"] == ".status.url"


def test_the_served_entity_limit_is_the_documented_one():
    """Ten, as the SDK and Terraform provider document it (docs/fidelity.md); the emulator agrees."""
    from lakeserve.emulator.serving.validation import MAX_SERVED_ENTITIES as EMULATOR_LIMIT
    schema = yaml.safe_load(render(KINDS)["servingendpoints.lakeserve.dev.yaml"])
    spec = schema["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    entities = spec["properties"]["config"]["properties"]["servedEntities"]
    assert entities["maxItems"] == EMULATOR_LIMIT == 10
