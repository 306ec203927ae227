"""Build the OpenAPI 3.1 document from the route table and the pydantic models, so it matches the routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from mididrumigen.api import models
from mididrumigen.api.errors import CODE_BY_STATUS
from mididrumigen.api.routes import PREFIX, ROUTES, Route
from mididrumigen.api.security import PUBLIC_PATHS

REF = "#/components/schemas/{model}"
COMMON_ERRORS = (401, 403, 405, 413, 414, 421, 500)


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def _operation(route: Route, components: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": route.name, "summary": route.summary, "responses": {}}
    if route.params:
        op["parameters"] = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required,
                "description": p.description,
                "schema": p.schema,
            }
            for p in route.params
        ]
    if route.body is not None:
        op["requestBody"] = {
            "required": route.body_required,
            "content": {"application/json": {"schema": _schema_ref(route.body, components)}},
        }
    for status, (description, model) in route.responses.items():
        if model is not None:
            content = {route.content_type: {"schema": _schema_ref(model, components)}}
        elif route.content_type == "application/json":
            content = {route.content_type: {"schema": {"type": "object"}}}
        else:
            content = {route.content_type: {"schema": {"type": "string", "format": "binary"}}}
        op["responses"][str(status)] = {"description": description, "content": content}
    error_ref = {"application/json": {"schema": {"$ref": REF.format(model="ErrorReply")}}}
    for status in sorted(set(route.errors) | set(COMMON_ERRORS)):
        if route.public and status == 401:
            continue
        response: dict[str, Any] = {"description": CODE_BY_STATUS.get(status, "error"), "content": error_ref}
        if status == 429:
            response["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
            }
        if status == 416:
            response["headers"] = {
                "Content-Range": {"schema": {"type": "string"}, "description": "bytes */<size>"}
            }
        op["responses"][str(status)] = response
    if PREFIX + route.path in PUBLIC_PATHS:
        op["security"] = []
    return op


def openapi_document(version: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every route under /api/v1."""
    components: dict[str, Any] = {}
    _schema_ref(models.ErrorReply, components)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(PREFIX + route.path, {})[route.method.lower()] = _operation(route, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MidiDrumiGen daemon",
            "version": version,
            "description": "Drum MIDI in a drummer's style from a local daemon. Every route but /health needs"
            " `Authorization: Bearer <token>` (the token is in the discovery file daemon.json). Every GET route"
            " but the event stream also answers HEAD.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
