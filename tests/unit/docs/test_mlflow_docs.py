"""The README's MLflow example is the tested script's code, and docs/mlflow.md quotes the
emulator's own messages."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
README = REPO / "README.md"
EXAMPLE = REPO / "examples" / "notebook_mlflow.py"
MLFLOW_DOC = REPO / "docs" / "mlflow.md"
EMULATOR = REPO / "operator" / "lakeserve" / "emulator"


def readme_python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_the_readme_example_is_the_scripts_code_in_order():
    (block,) = [b for b in readme_python_blocks() if "databricks-uc" in b]
    script = [line.strip() for line in EXAMPLE.read_text().splitlines()]
    position = 0
    for line in (line.strip() for line in block.splitlines() if line.strip()):
        assert line in script[position:], f"not in {EXAMPLE.name} (in this order): {line}"
        position = script.index(line, position) + 1


@pytest.mark.parametrize("quoted, source", [
    ("Got an invalid experiment name", "tracking/store.py"),
    ("An experiment name must be an absolute path within the Databricks workspace",
     "tracking/store.py"),
    ("searches model versions by name only", "registry/search.py"),
    ("Renaming a registered model is not supported by the local workspace",
     "registry/mlflow_routes.py"),
    ("artifact_location cannot be chosen in this workspace", "tracking/routes.py"),
    ("the local workspace serves files under", "files/store.py"),
    ("did not contain any signature metadata", "registry/registration.py"),
    ("only READY model versions can be served", "serving/validation.py"),
])
def test_documented_messages_are_the_emulators(quoted, source):
    assert quoted in " ".join(MLFLOW_DOC.read_text().split())  # wrapped lines are one
    assert any(quoted in text for text in string_literals(EMULATOR / source))


def string_literals(path: Path) -> list[str]:
    """Every string in the module as Python joins it (f-string fields left out)."""
    texts = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            texts.append("".join(part.value for part in node.values
                                 if isinstance(part, ast.Constant)))
    return texts
