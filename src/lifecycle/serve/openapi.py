"""The OpenAPI document's parts that come from params: the record schemas of two bodies.

/predict and /feedback read their own bodies (a size cap, then the params-generated schema),
so FastAPI cannot describe them: their request bodies and the record schemas are added here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from lifecycle.serve.state import ServiceState

ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "Already recorded: outcomes are written once (correct with PUT)"},
    413: {"description": "Body over serving.max_body_bytes"},
    422: {"description": "Invalid input: the field and the rule broken"},
    503: {"description": "No model loaded yet"},
}


def body_doc(schema: dict[str, Any], example: str | None = None) -> dict[str, Any]:
    """An OpenAPI requestBody for a route that reads its own body."""
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if example:
        content[example] = {"schema": {"type": "string"}}
    return {"required": True, "content": content}


def add_bodies(app: FastAPI, service: ServiceState) -> None:
    """Put the generated request bodies and record schemas into the app's OpenAPI document."""
    predict_schema, predict_defs = service.schema.predict.openapi()
    feedback_schema, feedback_defs = service.schema.feedback.openapi()
    bodies = {
        "/predict": body_doc(predict_schema),
        "/explain": body_doc(predict_schema),
        "/feedback": body_doc(feedback_schema, "application/x-ndjson"),
    }
    defs = {**predict_defs, **feedback_defs}
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = base()
            for path, body in bodies.items():  # where FastAPI would put it: before responses
                operation = schema["paths"][path]["post"]
                responses = operation.pop("responses")
                operation.update(requestBody=body, responses=responses)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(defs)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
