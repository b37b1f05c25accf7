"""Render the OpenAPI spec as a Markdown reference (docs/api-reference.md)."""

from __future__ import annotations

from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return "–"
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if schema.get("type") == "array" and "items" in schema:
        return f"array of {_schema_name(schema['items'])}"
    if "anyOf" in schema:
        return " or ".join(_schema_name(s) for s in schema["anyOf"])
    return f"`{schema.get('type', 'object')}`"


def _body(operation: dict[str, Any]) -> str:
    content = operation.get("requestBody", {}).get("content", {})
    parts = [f"{ctype}: {_schema_name(spec.get('schema'))}" for ctype, spec in content.items()]
    return "; ".join(parts) or "–"


def render_markdown(spec: dict[str, Any]) -> str:
    lines = [
        f"# {spec['info']['title']} — API reference",
        "",
        "Generated from the OpenAPI spec by `scripts/export_openapi.py`; do not edit by hand.",
        f"Version {spec['info']['version']}. Machine-readable spec: `docs/openapi.json`.",
        "",
        "Every error response has the `ErrorResponse` shape:",
        '`{"error": {"code", "message", "details"}, "request_id"}`.',
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((method, path, op))
    tag_text = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    for tag in sorted(by_tag):
        lines += [f"## {tag}", ""]
        if tag_text.get(tag):
            lines += [tag_text[tag], ""]
        for method, path, op in by_tag[tag]:
            lines.append(f"### `{method.upper()} {path}`")
            lines.append("")
            if op.get("summary"):
                lines.append(f"**{op['summary']}** — operation id `{op['operationId']}`")
            else:
                lines.append(f"Operation id `{op['operationId']}`")
            lines.append("")
            if op.get("description"):
                lines += [op["description"].strip(), ""]
            params = op.get("parameters", [])
            if params:
                lines.append("| parameter | in | required | type |")
                lines.append("| --- | --- | --- | --- |")
                for p in params:
                    lines.append(
                        f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} "
                        f"| {_schema_name(p.get('schema'))} |"
                    )
                lines.append("")
            lines.append(f"Request body: {_body(op)}")
            lines.append("")
            lines.append("| status | meaning | body |")
            lines.append("| --- | --- | --- |")
            for code, response in op.get("responses", {}).items():
                content: dict[str, Any] = response.get("content", {})
                first: dict[str, Any] = next(iter(content.values()), {})
                schema = first.get("schema")
                lines.append(
                    f"| {code} | {response.get('description', '')} | {_schema_name(schema)} |"
                )
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
