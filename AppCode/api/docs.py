"""Interactive docs at ``/api/v1/docs`` that work without internet access.

Swagger UI's files come from the ``swagger_ui_bundle`` package and are served by this server.
That bundle is Swagger UI 4, which reads OpenAPI 3.0 only, while FastAPI writes 3.1: the page
is given a 3.0 rendition of the same document (``openapi_30``); ``/api/v1/openapi.json`` stays
the exact 3.1 contract for clients and tools.
"""

from __future__ import annotations

from typing import Any

import swagger_ui_bundle  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["install_docs", "openapi_30"]

_NULL = {"type": "null"}
# Objects whose keys are names (of fields, paths, media types...), not schema keywords.
_NAME_MAPS = {
    "properties",
    "schemas",
    "paths",
    "responses",
    "content",
    "securitySchemes",
    "headers",
    "patternProperties",
    "$defs",
}


def install_docs(app: FastAPI, prefix: str) -> None:
    static = f"{prefix}/docs/static"
    app.mount(static, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger")

    @app.get(f"{prefix}/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{prefix}/docs/openapi-3.0.json",
            title=f"{app.title} {app.version}",
            swagger_js_url=f"{static}/swagger-ui-bundle.js",
            swagger_css_url=f"{static}/swagger-ui.css",
            swagger_favicon_url=f"{static}/favicon-32x32.png",
            # No badge from the online validator: the page makes no request to the internet.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(f"{prefix}/docs/openapi-3.0.json", include_in_schema=False)
    def openapi_for_docs() -> JSONResponse:
        return JSONResponse(openapi_30(app.openapi()))


def openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (OpenAPI 3.1, as FastAPI writes it) in OpenAPI 3.0 terms: null in a type
    union becomes ``nullable``, ``const`` an enum of one, numeric exclusive bounds the 3.0
    boolean ones, schema ``examples`` lists a single ``example``."""
    converted: dict[str, Any] = _downgrade(document)
    converted["openapi"] = "3.0.3"
    return converted


def _downgrade(node: Any, names: bool = False) -> Any:
    if isinstance(node, list):
        return [_downgrade(item) for item in node]
    if not isinstance(node, dict):
        return node
    if names:
        return {key: _downgrade(value) for key, value in node.items()}
    node = {key: _downgrade(value, key in _NAME_MAPS) for key, value in node.items()}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and _NULL in options:
            rest = [option for option in options if option != _NULL]
            del node[key]
            node["nullable"] = True
            if len(rest) == 1 and "$ref" not in rest[0]:
                node = {**rest[0], **node}
            elif rest:
                node["allOf" if len(rest) == 1 else key] = rest
    types = node.get("type")
    if isinstance(types, list):
        kept = [t for t in types if t != "null"]
        if len(kept) < len(types):
            node["nullable"] = True
        if len(kept) == 1:
            node["type"] = kept[0]
        else:
            del node["type"]
            if kept:
                node["anyOf"] = [{"type": t} for t in kept]
    if "const" in node:
        node["enum"] = [node.pop("const")]
    for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = node.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            node[plain] = value
            node[bound] = True
    examples = node.get("examples")
    if isinstance(examples, list):  # a schema's examples (a parameter's are a mapping)
        del node["examples"]
        if examples:
            node["example"] = examples[0]
    return node
