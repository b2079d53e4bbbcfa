"""The REST interactions of one FHIR base: metadata, read, vread, instance history and search
(GET and POST _search), with Patient Access gated by its bearer token."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from serving.api import bundles
from serving.api.auth import (
    JWKS_PATH,
    READ,
    SEARCH,
    AuthSettings,
    Grant,
    TokenVerifier,
    insufficient_scope,
    public_jwks,
    smart_configuration,
)
from serving.api.capability import capability_statement
from serving.api.errors import FhirError, FhirResponse
from serving.api.query import CURSOR, Controls, bad, check_format, split_controls
from serving.apis import Api
from serving.search import SearchError, SearchResult, in_compartment, search
from serving.store import StoredResource, read_current, read_history

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_FORM = "application/x-www-form-urlencoded"
_JSON_ACCEPT = re.compile(
    r"(\*/\*|application/\*|application/(fhir\+)?json|application/json\+fhir)"
)


class Base:
    """One API over one store: what a route needs to answer for this base."""

    def __init__(self, api: Api, engine: sa.Engine, auth: AuthSettings) -> None:
        self.api, self.engine, self.auth = api, engine, auth
        self.verifier = TokenVerifier(auth) if api.protected else None

    def url(self, request: Request) -> str:
        return str(request.base_url).rstrip("/") + self.api.path

    async def grant(self, request: Request, resource_type: str, interaction: str) -> Grant | None:
        """None on a public base; else the token's grant, once it allows this interaction."""
        _check_type(self.api, resource_type)
        if self.verifier is None:
            return None
        grant = await run_in_threadpool(self.verifier.grant, request.headers.get("authorization"))
        if not grant.allows(resource_type, interaction):
            raise insufficient_scope(resource_type, interaction)
        return grant


def build_router(api: Api, engine: sa.Engine, auth: AuthSettings) -> APIRouter:
    base = Base(api, engine, auth)
    router = APIRouter(prefix=api.path)

    @router.get("/metadata")
    async def metadata(request: Request) -> FhirResponse:
        _negotiate(request)
        statement = await run_in_threadpool(capability_statement, api, base.url(request), auth)
        return FhirResponse(statement)

    if api.protected:
        _add_smart_routes(router, base)

    @router.get("/{resource_type}")
    @router.get("/{resource_type}/_search")
    async def search_get(request: Request, resource_type: str) -> FhirResponse:
        return await _search(base, request, resource_type, list(request.query_params.multi_items()))

    @router.post("/{resource_type}/_search")
    async def search_post(request: Request, resource_type: str) -> FhirResponse:
        pairs = list(request.query_params.multi_items()) + await _form_pairs(request)
        return await _search(base, request, resource_type, pairs)

    @router.get("/{resource_type}/_history")
    async def type_history(request: Request, resource_type: str) -> FhirResponse:
        _check_type(api, resource_type)
        raise FhirError(501, "history of a whole resource type is not supported; ask per instance")

    @router.get("/{resource_type}/{resource_id}")
    async def read(request: Request, resource_type: str, resource_id: str) -> FhirResponse:
        _negotiate(request)
        grant = await base.grant(request, resource_type, READ)
        stored = await run_in_threadpool(_current, base, resource_type, resource_id, grant)
        return _resource_response(stored)

    @router.get("/{resource_type}/{resource_id}/_history")
    async def instance_history(
        request: Request, resource_type: str, resource_id: str
    ) -> FhirResponse:
        _negotiate(request)
        _only_format(request)
        grant = await base.grant(request, resource_type, READ)
        versions = await run_in_threadpool(_versions, base, resource_type, resource_id, grant)
        self_url = f"{base.url(request)}/{resource_type}/{resource_id}/_history"
        return FhirResponse(bundles.history(base.url(request), self_url, versions))

    @router.get("/{resource_type}/{resource_id}/_history/{version_id}")
    async def vread(
        request: Request, resource_type: str, resource_id: str, version_id: str
    ) -> FhirResponse:
        _negotiate(request)
        grant = await base.grant(request, resource_type, READ)
        versions = await run_in_threadpool(_versions, base, resource_type, resource_id, grant)
        wanted = [v for v in versions if str(v.version_id) == version_id]
        if not wanted:
            raise FhirError(404, f"{resource_type} has no such version")
        if wanted[0].deleted:
            raise FhirError(410, f"this version of the {resource_type} is a deletion")
        return _resource_response(wanted[0])

    return router


def _add_smart_routes(router: APIRouter, base: Base) -> None:
    @router.get("/.well-known/smart-configuration")
    async def smart_well_known(request: Request) -> FhirResponse:
        document = smart_configuration(base.auth, base.url(request))
        return FhirResponse(document, media_type="application/json")

    @router.get(JWKS_PATH)
    async def jwks(request: Request) -> FhirResponse:
        document = await run_in_threadpool(public_jwks, base.auth)
        return FhirResponse(document, media_type="application/json")


def _check_type(api: Api, resource_type: str) -> None:
    if resource_type not in api.profiles:
        shown = resource_type if resource_type.isalpha() and len(resource_type) < 64 else "that"
        raise FhirError(404, f"resource type {shown} is not served by {api.path}")


def _negotiate(request: Request) -> None:
    check_format(request.query_params.get("_format"))
    accept = request.headers.get("accept")
    if accept and not _JSON_ACCEPT.search(accept):
        raise FhirError(406, "this server answers in JSON only (Accept: application/fhir+json)")


def _only_format(request: Request) -> None:
    extra = sorted({key for key in request.query_params if key != "_format"})
    if extra:
        raise bad(extra[0], "instance history takes no parameters but _format")


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if not body:
        return []
    if content_type != _FORM:
        raise FhirError(415, f"POST _search takes a {_FORM} body")
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError) as exc:
        raise FhirError(400, "the form body is not valid URL-encoded UTF-8") from exc


def _resource_response(stored: StoredResource) -> FhirResponse:
    return FhirResponse(
        stored.resource,
        headers={
            "ETag": bundles.etag(stored.version_id),
            "Last-Modified": bundles.http_date(stored.last_updated),
        },
    )


def _check_id(resource_id: str) -> None:
    if not _ID.fullmatch(resource_id):
        raise FhirError(400, "that is not a valid FHIR resource id")


def _visible(base: Base, stored: StoredResource | None, grant: Grant | None) -> StoredResource:
    """The resource if this base serves it and the token's member may see it; else 404, so
    another member's resource is indistinguishable from a missing one."""
    if stored is None or not _serves(base, stored):
        raise FhirError(404, f"{stored.resource_type if stored else 'resource'} not found")
    if grant is not None and not in_compartment(
        base.engine, base.api, stored.resource_type, stored.id, grant.patient
    ):
        raise FhirError(404, f"{stored.resource_type} not found")
    return stored


def _serves(base: Base, stored: StoredResource) -> bool:
    if stored.resource is not None:
        return base.api.serves(stored.resource, stored.domain)
    # A tombstone has no content: judge it by the last version that had some.
    versions = read_history(base.engine, stored.resource_type, stored.id)
    content = [v for v in versions if v.resource is not None]
    return bool(content) and base.api.serves(content[-1].resource or {}, content[-1].domain)


def _current(
    base: Base, resource_type: str, resource_id: str, grant: Grant | None
) -> StoredResource:
    _check_id(resource_id)
    stored = _visible(base, read_current(base.engine, resource_type, resource_id), grant)
    if stored.deleted:
        raise FhirError(410, f"{resource_type} was deleted")
    return stored


def _versions(
    base: Base, resource_type: str, resource_id: str, grant: Grant | None
) -> list[StoredResource]:
    _check_id(resource_id)
    _visible(base, read_current(base.engine, resource_type, resource_id), grant)
    return read_history(base.engine, resource_type, resource_id)


async def _search(
    base: Base, request: Request, resource_type: str, pairs: list[tuple[str, str]]
) -> FhirResponse:
    _negotiate(request)
    grant = await base.grant(request, resource_type, SEARCH)
    params, controls = split_controls(pairs)
    result = await run_in_threadpool(_run_search, base, resource_type, params, controls, grant)
    return FhirResponse(_searchset(base, request, resource_type, params, controls, result, grant))


def _run_search(
    base: Base,
    resource_type: str,
    params: list[tuple[str, str]],
    controls: Controls,
    grant: Grant | None,
) -> SearchResult:
    try:
        return search(
            base.engine,
            base.api,
            resource_type,
            params,
            count=controls.count,
            cursor=controls.cursor,
            want_total=controls.want_total,
            patient=grant.patient if grant else None,
        )
    except SearchError as exc:
        raise FhirError(400, str(exc), expression=exc.parameter) from exc


def _searchset(
    base: Base,
    request: Request,
    resource_type: str,
    params: list[tuple[str, str]],
    controls: Controls,
    result: SearchResult,
    grant: Grant | None,
) -> dict[str, Any]:
    base_url = base.url(request)
    asked = [*params, ("_count", str(controls.count)), *controls.carried]
    self_pairs = asked + ([(CURSOR, controls.cursor)] if controls.cursor else [])
    next_url = None
    if result.next_cursor:
        next_url = bundles.search_url(
            base_url, resource_type, [*asked, (CURSOR, result.next_cursor)]
        )
    total = result.total
    if total is None and controls.count and not controls.cursor and not result.next_cursor:
        total = len(result.matches)  # the one page holds every match
    matches = [
        bundles.subset(m.resource or {}, controls.elements, controls.drop_text)
        for m in result.matches
    ]
    # An include of a type the token may not read is left out, as SMART allows.
    included = [i for i in result.included if grant is None or grant.allows(i.resource_type, READ)]
    return bundles.searchset(
        base_url,
        matches,
        included,
        total=total,
        self_url=bundles.search_url(base_url, resource_type, self_pairs),
        next_url=next_url,
    )
