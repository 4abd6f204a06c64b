"""MkDocs hook: the HTTP API reference, generated from the server's own OpenAPI document.

At every build the FastAPI app is built (``create_app()``, no store needed), its OpenAPI
document is written into the site as ``reference/openapi.json`` (a static copy of what
``embed serve`` answers at ``/openapi.json``), and the page ``reference/http.md`` gets one entry
per route and method, with its parameters and answers, where it says ``<!-- openapi -->``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

PAGE = "reference/http.md"
COPY = "reference/openapi.json"
MARKER = "<!-- openapi -->"


def openapi_document() -> dict[str, Any]:
    """The document ``embed serve`` answers at ``/openapi.json``."""
    from embedstore_server import create_app

    return create_app().openapi()


def anchor(method: str, path: str) -> str:
    """The heading id of one route: ``get-v1-models-model-similar``."""
    return "-".join([method.lower(), *re.findall(r"[a-z0-9]+", path.lower())])


def type_of(schema: dict[str, Any]) -> str:
    """A short reading of a JSON schema: ``integer (1 to 10000)``, ``add | mul``."""
    if "anyOf" in schema:
        kinds = [type_of(part) for part in schema["anyOf"] if part.get("type") != "null"]
        return " or ".join(kinds)
    if "enum" in schema:
        return " \\| ".join(f"`{value}`" for value in schema["enum"])
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kind = str(schema.get("type", "any"))
    if kind == "array":
        kind = f"list of {type_of(schema.get('items', {}))}"
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        kind += f" ({low} to {high})"
    elif low is not None or high is not None:
        kind += f" (at least {low})" if high is None else f" (at most {high})"
    if "exclusiveMinimum" in schema:
        kind += f" (over {schema['exclusiveMinimum']})"
    return kind


def cell(text: object) -> str:
    """Text fit for one cell of a Markdown table."""
    return " ".join(str(text).split()).replace("|", "\\|")


def parameter_rows(parameters: list[dict[str, Any]]) -> list[str]:
    if not parameters:
        return []
    rows = ["| parameter | in | type | default | description |", "|---|---|---|---|---|"]
    for parameter in parameters:
        schema = parameter.get("schema", {})
        default = schema.get("default")
        shown = "required" if parameter.get("required") else (
            "none" if default is None else f"`{json.dumps(default)}`")
        rows.append(f"| `{parameter['name']}` | {parameter['in']} | {cell(type_of(schema))} | "
                    f"{shown} | {cell(parameter.get('description', ''))} |")
    return [*rows, ""]


def route_entry(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    """One route's entry: heading, summary, description, parameters, body and answers."""
    lines = [f"## `{method.upper()} {path}` {{#{anchor(method, path)}}}", "",
             f"**{operation.get('summary', '')}**", ""]
    if operation.get("description"):
        lines += [operation["description"].strip(), ""]
    if operation.get("security"):
        lines += ["Needs `Authorization: Bearer KEY` when the server runs with `--api-key`.",
                  ""]
    lines += parameter_rows(operation.get("parameters", []))
    body = operation.get("requestBody")
    if body:
        kinds = ", ".join(f"`{kind}`" for kind in body.get("content", {}))
        lines += [f"Request body ({kinds}): {cell(body.get('description', ''))}", ""]
    lines += ["| status | answer |", "|---|---|"]
    for status, answer in operation.get("responses", {}).items():
        kinds = ", ".join(f"`{kind}`" for kind in answer.get("content", {}))
        lines.append(f"| {status} | {cell(answer.get('description', ''))}"
                     f"{f' ({kinds})' if kinds else ''} |")
    return [*lines, ""]


def reference_markdown(document: dict[str, Any]) -> str:
    """Every route of the document, in the order the server declares them."""
    lines: list[str] = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            lines += route_entry(path, method, operation)
    return "\n".join(lines)


_document: dict[str, Any] = {}


def on_files(files: Files, config: MkDocsConfig) -> Files:
    _document.clear()
    _document.update(openapi_document())
    text = json.dumps(_document, indent=2, ensure_ascii=False) + "\n"
    files.append(File.generated(config, COPY, content=text))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} lacks the marker {MARKER} where the routes go")
    return markdown.replace(MARKER, reference_markdown(_document))
