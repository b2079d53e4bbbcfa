"""CapabilityStatements generated from what each base really serves: its profiles, the search
parameters, includes and chains the search layer implements, and (Patient Access) SMART."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from serving.api.auth import AuthSettings
from serving.apis import Api
from serving.search import Capability, SearchParamInfo, capabilities

FHIR_VERSION = "4.0.1"
FORMATS = ["application/fhir+json", "json"]
# The instance-level interactions every base implements (routes.py); nothing else is listed.
INTERACTIONS = ["read", "vread", "search-type", "history-instance"]
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
# Parameters every search answers besides the resource's own (routes.py handles them).
CONTROL_PARAMETERS = "_count (max 1000), _summary=count|data|false, _total, _elements, _format"


def _software_version() -> str:
    try:
        return version("payer-interop")
    except PackageNotFoundError:
        return "0+unknown"


def implementation_guide(api: Api) -> str:
    # IG canonicals share the CapabilityStatement's base: <base>/ImplementationGuide/<package id>.
    base = api.instantiates.partition("/CapabilityStatement/")[0]
    return f"{base}/ImplementationGuide/{api.ig_package}|{api.ig_version}"


def capability_statement(
    api: Api, base_url: str, auth: AuthSettings | None, *, now: datetime | None = None
) -> dict[str, Any]:
    """The CapabilityStatement of one base (kind=instance), as served at [base]/metadata."""
    software = _software_version()
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": f"{api.title}. Read-only FHIR R4 over the plan's serving store. "
        f"Every search also takes {CONTROL_PARAMETERS}.",
        "resource": [_resource(api, t, capabilities(api, t)) for t in api.resource_types],
    }
    if api.protected:
        rest["security"] = _smart_security(auth or AuthSettings())
    return {
        "resourceType": "CapabilityStatement",
        "id": api.name,
        "url": f"{base_url}/metadata",
        "version": software,
        "name": "PayerInterop" + "".join(part.title() for part in api.name.split("-")),
        "title": api.title,
        "status": "active",
        "experimental": False,
        "date": (now or datetime.now(UTC)).date().isoformat(),
        "publisher": "payer-interop",
        "kind": "instance",
        "instantiates": [api.instantiates],
        "software": {"name": "payer-interop", "version": software},
        "implementation": {"description": api.title, "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": FORMATS,
        "implementationGuide": [implementation_guide(api)],
        "rest": [rest],
    }


def _resource(api: Api, resource_type: str, capability: Capability) -> dict[str, Any]:
    versioned = list(api.profiles[resource_type])
    resource: dict[str, Any] = {
        "type": resource_type,
        # Unversioned canonicals first: the Plan-Net suite looks for those exact strings.
        "supportedProfile": api.unversioned_profiles(resource_type) + versioned,
        "interaction": [{"code": code} for code in INTERACTIONS],
        "versioning": "versioned",
        "readHistory": True,
        "updateCreate": False,
        "conditionalCreate": False,
        "conditionalRead": "not-supported",
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": [_search_param(p, capability.chains) for p in capability.search_params],
    }
    if capability.includes:
        resource["searchInclude"] = list(capability.includes)
    if capability.revincludes:
        resource["searchRevInclude"] = list(capability.revincludes)
    return resource


def _search_param(param: SearchParamInfo, chains: dict[str, list[str]]) -> dict[str, Any]:
    entry = {"name": param.name, "definition": param.definition, "type": param.type}
    # R4 CapabilityStatement has no element for chains; the documentation carries them.
    documentation = param.documentation or ""
    if chains.get(param.name):
        chain_text = "Chains: " + ", ".join(f"{param.name}.{c}" for c in chains[param.name])
        documentation = f"{documentation} {chain_text}".strip()
    if documentation:
        entry["documentation"] = documentation
    return entry


def _smart_security(auth: AuthSettings) -> dict[str, Any]:
    security: dict[str, Any] = {
        "cors": True,
        "service": [{"coding": [{"system": SECURITY_SERVICE, "code": "SMART-on-FHIR"}]}],
        "description": "SMART App Launch (OAuth 2.0): every request but /metadata and "
        "/.well-known/smart-configuration needs a Bearer access token from the plan's "
        "authorization server; the token's patient claim confines answers to that member.",
    }
    # Without configured endpoints there is nothing true to advertise; requests fail closed.
    if auth.authorize_url and auth.token_url:
        security["extension"] = [
            {
                "url": OAUTH_URIS,
                "extension": [
                    {"url": "authorize", "valueUri": auth.authorize_url},
                    {"url": "token", "valueUri": auth.token_url},
                ],
            }
        ]
    return security
