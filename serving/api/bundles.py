"""Bundles: searchset pages with stable next links, and instance history, with absolute
fullUrls so a client can follow every entry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from serving.store import StoredResource

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "subsetted",
}


def etag(version_id: int) -> str:
    return f'W/"{version_id}"'


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def instant(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def search_url(base_url: str, resource_type: str, pairs: Sequence[tuple[str, str]]) -> str:
    query = urlencode(list(pairs))
    return f"{base_url}/{resource_type}" + (f"?{query}" if query else "")


def searchset(
    base_url: str,
    matches: Sequence[dict[str, Any]],
    included: Sequence[StoredResource],
    *,
    total: int | None,
    self_url: str,
    next_url: str | None,
) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    entries = [_entry(base_url, resource, "match") for resource in matches]
    entries += [_entry(base_url, stored.resource or {}, "include") for stored in included]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(datetime.now(UTC))},
        "type": "searchset",
    }
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    bundle["entry"] = entries
    return bundle


def _entry(base_url: str, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base_url}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def history(base_url: str, self_url: str, versions: Sequence[StoredResource]) -> dict[str, Any]:
    """An instance's versions, newest first, each with the request that made it."""
    entries = [_history_entry(base_url, v) for v in sorted(versions, key=lambda v: -v.version_id)]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant(datetime.now(UTC))},
        "type": "history",
        "total": len(entries),
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries,
    }


def _history_entry(base_url: str, version: StoredResource) -> dict[str, Any]:
    path = f"{version.resource_type}/{version.id}"
    if version.deleted:
        request, status = {"method": "DELETE", "url": path}, "200 OK"
    elif version.version_id == 1:
        request, status = {"method": "POST", "url": version.resource_type}, "201 Created"
    else:
        request, status = {"method": "PUT", "url": path}, "200 OK"
    entry: dict[str, Any] = {"fullUrl": f"{base_url}/{path}"}
    if version.resource is not None and not version.deleted:
        entry["resource"] = version.resource
    entry["request"] = request
    entry["response"] = {
        "status": status,
        "etag": etag(version.version_id),
        "lastModified": instant(version.last_updated),
    }
    return entry


def subset(
    resource: dict[str, Any], elements: Sequence[str] | None, drop_text: bool
) -> dict[str, Any]:
    """_elements / _summary=data: a copy with fewer elements, tagged SUBSETTED as FHIR asks."""
    if elements is None and not drop_text:
        return resource
    keep = {"resourceType", "id", "meta", *(elements or resource)}
    if drop_text:
        keep.discard("text")
    trimmed = {key: value for key, value in resource.items() if key in keep}
    meta = dict(trimmed.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    trimmed["meta"] = meta
    return trimmed
