"""The FastAPI application: the plan's four FHIR bases over one serving store."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from serving.api.auth import AuthSettings
from serving.api.errors import install_error_handlers
from serving.api.routes import build_router
from serving.apis import APIS
from serving.store import create_schema, make_engine

GZIP_MIN_BYTES = 1_000


def create_app(engine: sa.Engine | None = None, *, auth: AuthSettings | None = None) -> FastAPI:
    """The app over `engine` (default: the configured serving store, created if missing);
    Patient Access authorization comes from `auth` or the PATIENT_ACCESS_* environment."""
    if engine is None:
        engine = make_engine()
        create_schema(engine)
    settings = auth or AuthSettings.from_env()
    # No OpenAPI pages: each base's CapabilityStatement is the contract, and FHIR clients
    # should meet no endpoints that answer in anything but FHIR.
    app = FastAPI(title="payer-interop FHIR APIs", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    install_error_handlers(app)
    for api in APIS:
        app.include_router(build_router(api, engine, settings))
    app.state.engine = engine
    return app
