"""FHIR responses and errors: every answer is application/fhir+json, and every 4xx/5xx carries
an OperationOutcome whose text names the rule broken but never the data asked for."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from serving.store import json_bytes

FHIR_JSON = "application/fhir+json"
logger = logging.getLogger(__name__)

# HTTP status -> OperationOutcome.issue.code for the statuses this server produces itself.
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    410: "deleted",
    413: "too-costly",
    415: "not-supported",
    422: "invalid",
    501: "not-supported",
    503: "transient",
}


class FhirResponse(Response):
    """A FHIR JSON body, serialized by the store's own serializer (Decimal-exact)."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


class FhirError(Exception):
    """An error the client should see as an OperationOutcome with this status."""

    def __init__(
        self,
        status: int,
        diagnostics: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        expression: str | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code or _ISSUE_CODES.get(status, "exception")
        self.headers = dict(headers or {})
        self.expression = expression


def operation_outcome(
    diagnostics: str, code: str, *, severity: str = "error", expression: str | None = None
) -> dict[str, Any]:
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def error_response(error: FhirError) -> FhirResponse:
    body = operation_outcome(error.diagnostics, error.code, expression=error.expression)
    return FhirResponse(body, status_code=error.status, headers=error.headers)


async def _fhir_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FhirError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    # Starlette's own 404/405 text is generic ("Not Found"); it never echoes the path.
    message = {404: "no such endpoint on this server", 405: "method not allowed here"}.get(
        exc.status_code, str(exc.detail)
    )
    return error_response(FhirError(exc.status_code, message, headers=exc.headers))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Only the locations of the bad inputs: their values could be personal data.
    where = ", ".join(".".join(str(part) for part in err["loc"]) for err in exc.errors())
    return error_response(FhirError(400, f"invalid request input: {where}"))


async def _unhandled(request: Request, exc: Exception) -> Response:
    # Logged with its traceback for operators; the client learns nothing about the internals.
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(FhirError(500, "internal server error", code="exception"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(FhirError, _fhir_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unhandled)
