"""read, vread and instance history on the public bases, with their headers and errors."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient

from tests.api.conftest import Store, golden

PD = "/provider-directory"


def _outcome(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    assert body["issue"][0]["code"] == code
    return body


def test_read_returns_the_resource_with_etag_and_last_modified(
    client: TestClient, store: Store
) -> None:
    practitioner = next(p for p in golden("Practitioner") if "plannet" in p["meta"]["profile"][0])
    response = client.get(f"{PD}/Practitioner/{practitioner['id']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    assert body["id"] == practitioner["id"] and body["resourceType"] == "Practitioner"
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["last-modified"] == "Tue, 01 Dec 2026 07:00:00 GMT"


def test_changed_resource_has_two_versions_each_readable(client: TestClient, store: Store) -> None:
    url = f"{PD}/Location/{store.changed_location}"
    current = client.get(url)
    assert current.headers["etag"] == 'W/"2"' and current.json()["name"].endswith("(renamed)")
    first = client.get(f"{url}/_history/1")
    assert first.status_code == 200 and first.headers["etag"] == 'W/"1"'
    assert not first.json()["name"].endswith("(renamed)")
    history = client.get(f"{url}/_history").json()
    assert history["type"] == "history" and history["total"] == 2
    assert [e["response"]["etag"] for e in history["entry"]] == ['W/"2"', 'W/"1"']
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "POST"]
    assert history["entry"][0]["fullUrl"] == f"http://testserver{url}"
    _outcome(client.get(f"{url}/_history/3"), 404, "not-found")


def test_tombstone_read_is_410_and_its_history_shows_the_delete(
    client: TestClient, store: Store
) -> None:
    url = f"{PD}/Location/{store.deleted_location}"
    _outcome(client.get(url), 410, "deleted")
    _outcome(client.get(f"{url}/_history/2"), 410, "deleted")
    assert client.get(f"{url}/_history/1").status_code == 200
    entries = client.get(f"{url}/_history").json()["entry"]
    assert entries[0]["request"]["method"] == "DELETE" and "resource" not in entries[0]


def test_resource_of_another_api_is_404(client: TestClient, store: Store) -> None:
    carin_org = next(o for o in golden("Organization") if "C4BB" in o["meta"]["profile"][0])
    _outcome(client.get(f"{PD}/Organization/{carin_org['id']}"), 404, "not-found")
    stu1 = next(m for m in golden("MedicationKnowledge") if "|1.1.0" in m["meta"]["profile"][0])
    _outcome(client.get(f"/formulary/MedicationKnowledge/{stu1['id']}"), 404, "not-found")
    assert client.get(f"/formulary-stu1/MedicationKnowledge/{stu1['id']}").status_code == 200
    # A type the base does not serve, and an id that is not a FHIR id.
    _outcome(client.get(f"{PD}/ExplanationOfBenefit/x"), 404, "not-found")
    _outcome(client.get(f"{PD}/Location/no-such-location"), 404, "not-found")
    _outcome(client.get(f"{PD}/Location/{'x' * 65}"), 400, "invalid")


def test_framework_errors_are_operation_outcomes(client: TestClient) -> None:
    _outcome(client.get("/no-such-base/Patient/1"), 404, "not-found")
    _outcome(client.delete(f"{PD}/Location/abc"), 405, "not-supported")
    _outcome(client.put(f"{PD}/Location/abc", json={}), 405, "not-supported")
    _outcome(client.get(f"{PD}/Location/_history"), 501, "not-supported")
    _outcome(client.get(f"{PD}/Location/abc/_history?_since=2020"), 400, "invalid")


def test_format_json_accepted_and_xml_refused(client: TestClient, store: Store) -> None:
    url = f"{PD}/Location/{store.changed_location}"
    for fmt in ("json", "application/fhir+json", "application/json"):
        assert client.get(url, params={"_format": fmt}).status_code == 200
    _outcome(client.get(url, params={"_format": "xml"}), 406, "not-supported")
    _outcome(client.get(url, headers={"Accept": "application/fhir+xml"}), 406, "not-supported")
    assert client.get(url, headers={"Accept": "text/html,*/*;q=0.8"}).status_code == 200


def test_large_answers_are_gzipped(client: TestClient) -> None:
    response = client.get(f"{PD}/metadata", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    raw = client.get(f"{PD}/metadata", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content)
