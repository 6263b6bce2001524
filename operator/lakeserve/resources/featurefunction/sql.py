"""The SQL that defines a Python UDF, the way Databricks documents it."""

from __future__ import annotations

import hashlib
import json
import textwrap

from lakeserve.api.featurefunction import FeatureFunctionSpec
from lakeserve.resources.featurefunction.types import canonical, sql_text


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def quote_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def normalized_body(body: str) -> str:
    """Body text compared and sent: dedented, trailing spaces and blank edges removed."""
    lines = [line.rstrip() for line in textwrap.dedent(body).strip("\n").splitlines()]
    return "\n".join(lines).strip("\n")


def full_name_sql(spec: FeatureFunctionSpec) -> str:
    return ".".join(quote_identifier(part) for part in (spec.catalog, spec.schema_, spec.name))


def create_or_replace(spec: FeatureFunctionSpec) -> str:
    params = ", ".join(
        f"{quote_identifier(p.name)} {sql_text(p.type)}"
        + (f" COMMENT {quote_string(p.comment)}" if p.comment else "")
        for p in spec.parameters)
    lines = [f"CREATE OR REPLACE FUNCTION {full_name_sql(spec)}({params})",
             f"RETURNS {sql_text(spec.returns)}",
             "LANGUAGE PYTHON",
             "DETERMINISTIC" if spec.deterministic else "NOT DETERMINISTIC"]
    if spec.comment:
        lines.append(f"COMMENT {quote_string(spec.comment)}")
    lines += ["AS $$", normalized_body(spec.body), "$$"]
    return "\n".join(lines)


def drop(spec: FeatureFunctionSpec) -> str:
    return f"DROP FUNCTION IF EXISTS {full_name_sql(spec)}"


def definition_hash(spec: FeatureFunctionSpec) -> str:
    """Identifies one definition, so a failed statement is not re-run for the same spec."""
    definition = {"params": [(p.name, canonical(p.type), p.comment) for p in spec.parameters],
                  "returns": canonical(spec.returns), "body": normalized_body(spec.body),
                  "comment": spec.comment, "deterministic": spec.deterministic}
    return hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:16]
