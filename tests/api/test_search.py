"""Search through the API: GET and POST agree, pages chain through next links to every match,
includes come back as includes, and the search controls (_count, _summary, _total, _elements)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Bearer, Store, golden, member_with_eobs

PD = "/provider-directory"
PA = "/patient-access"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _ids(bundle: dict, mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def _plan_net(resource_type: str) -> list[dict]:
    return [r for r in golden(resource_type) if "plannet" in r["meta"]["profile"][0]]


def _self(bundle: dict) -> str:
    return next(link["url"] for link in bundle["link"] if link["relation"] == "self")


def _next(bundle: dict) -> str | None:
    return next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)


def test_get_and_post_search_agree(client: TestClient, bearer: Bearer) -> None:
    patient, eobs = member_with_eobs()
    headers = bearer(patient)
    got = client.get(f"{PA}/ExplanationOfBenefit", params={"patient": patient}, headers=headers)
    posted = client.post(
        f"{PA}/ExplanationOfBenefit/_search", content=f"patient={patient}", headers=headers | FORM
    )
    assert got.status_code == posted.status_code == 200
    assert sorted(_ids(got.json())) == sorted(_ids(posted.json())) == eobs
    typed = client.get(
        f"{PA}/ExplanationOfBenefit", params={"patient": f"Patient/{patient}"}, headers=headers
    )
    assert sorted(_ids(typed.json())) == eobs

    postal = _plan_net("Location")[5]["address"]["postalCode"]
    got = client.get(f"{PD}/Location", params={"address-postalcode": postal}).json()
    posted = client.post(f"{PD}/Location/_search", data={"address-postalcode": postal}).json()
    assert _ids(got) and _ids(got) == _ids(posted)


def test_post_search_takes_only_a_form_body(client: TestClient) -> None:
    response = client.post(f"{PD}/Location/_search", json={"name": "x"})
    assert response.status_code == 415
    assert response.json()["resourceType"] == "OperationOutcome"


def test_paging_follows_next_links_to_every_match(client: TestClient, store: Store) -> None:
    expected = sorted(r["id"] for r in _plan_net("PractitionerRole"))
    url: str | None = f"{PD}/PractitionerRole?_count=40"
    seen: list[str] = []
    pages = 0
    while url:
        bundle = client.get(url).json()
        assert bundle["type"] == "searchset"
        page = _ids(bundle)
        assert len(page) <= 40
        seen += page
        url = _next(bundle)
        if url:
            query = dict(parse_qsl(urlsplit(url).query))
            assert query["_count"] == "40" and query["_cursor"]
            assert url.startswith("http://testserver/provider-directory/PractitionerRole?")
        pages += 1
    assert pages == -(-len(expected) // 40)
    assert sorted(seen) == expected and len(set(seen)) == len(seen)


def test_next_link_carries_the_original_query(client: TestClient) -> None:
    state = _plan_net("Location")[0]["address"]["state"]
    bundle = client.get(
        f"{PD}/Location", params={"address-state": state, "_count": "3", "_total": "accurate"}
    ).json()
    assert bundle["total"] > 3
    query = parse_qsl(urlsplit(_next(bundle)).query)
    assert ("address-state", state) in query and ("_total", "accurate") in query
    second = client.get(_next(bundle)).json()
    assert set(_ids(second)).isdisjoint(_ids(bundle))


def test_entries_have_absolute_full_urls(client: TestClient) -> None:
    bundle = client.get(f"{PD}/Endpoint", params={"_count": "2"}).json()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert entry["fullUrl"] == f"http://testserver{PD}/Endpoint/{resource['id']}"
    self_link = _self(bundle)
    assert self_link.startswith("http://testserver/provider-directory/Endpoint?")


def test_include_and_revinclude_come_back_as_include(client: TestClient) -> None:
    role = next(r for r in _plan_net("PractitionerRole") if r.get("location"))
    bundle = client.get(
        f"{PD}/PractitionerRole",
        params={"_id": role["id"], "_include": "PractitionerRole:location"},
    ).json()
    assert _ids(bundle) == [role["id"]]
    wanted = {ref["reference"].split("/")[-1] for ref in role["location"]}
    assert wanted <= set(_ids(bundle, "include"))
    assert {
        e["resource"]["resourceType"] for e in bundle["entry"] if e["search"]["mode"] == "include"
    } == {"Location"}

    location = role["location"][0]["reference"].split("/")[-1]
    bundle = client.get(
        f"{PD}/Location", params={"_id": location, "_revinclude": "PractitionerRole:location"}
    ).json()
    assert _ids(bundle) == [location]
    assert role["id"] in _ids(bundle, "include")


def test_include_in_patient_access_stays_in_scope(client: TestClient, bearer: Bearer) -> None:
    patient, eobs = member_with_eobs()
    params = {"_id": eobs[0], "_include": "ExplanationOfBenefit:patient"}
    bundle = client.get(f"{PA}/ExplanationOfBenefit", params=params, headers=bearer(patient)).json()
    assert _ids(bundle, "include") == [patient]
    narrow = bearer(patient, scope="patient/ExplanationOfBenefit.read")
    bundle = client.get(f"{PA}/ExplanationOfBenefit", params=params, headers=narrow).json()
    assert _ids(bundle) == [eobs[0]] and _ids(bundle, "include") == []


def test_summary_count_and_total(client: TestClient) -> None:
    expected = len(_plan_net("Location")) - 1  # one was deleted by the second load
    bundle = client.get(f"{PD}/Location", params={"_summary": "count"}).json()
    assert bundle["total"] == expected and not bundle.get("entry")
    bundle = client.get(f"{PD}/Location", params={"_total": "accurate", "_count": "5"}).json()
    assert bundle["total"] == expected and len(_ids(bundle)) == 5
    bundle = client.get(f"{PD}/Location", params={"_total": "none", "_count": "5"}).json()
    assert "total" not in bundle
    # A single page that holds every match knows its total without being asked.
    bundle = client.get(f"{PD}/Location", params={"_count": "1000"}).json()
    assert bundle["total"] == expected


def test_elements_and_summary_data_subset_the_matches(client: TestClient) -> None:
    bundle = client.get(
        f"{PD}/Location", params={"_elements": "name,address", "_count": "3"}
    ).json()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert set(resource) <= {"resourceType", "id", "meta", "name", "address"}
        assert any(tag["code"] == "SUBSETTED" for tag in resource["meta"]["tag"])
    bundle = client.get(f"{PD}/Location", params={"_summary": "data", "_count": "3"}).json()
    assert all("text" not in e["resource"] for e in bundle["entry"])


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"_count": "ten"}, "_count"),
        ({"_count": "-1"}, "_count"),
        ({"_count": ["1", "2"]}, "_count"),
        ({"_summary": "true"}, "_summary"),
        ({"_total": "sometimes"}, "_total"),
        ({"_elements": "a b"}, "_elements"),
        ({"no-such-parameter": "x"}, "no-such-parameter"),
    ],
)
def test_bad_search_parameters_are_400_naming_the_parameter(
    client: TestClient, params: dict, parameter: str
) -> None:
    response = client.get(f"{PD}/Location", params=params)
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["code"] == "invalid" and issue["expression"] == [parameter]


def test_count_above_the_maximum_is_capped(client: TestClient) -> None:
    bundle = client.get(f"{PD}/Location", params={"_count": "5000"}).json()
    self_link = _self(bundle)
    assert ("_count", "1000") in parse_qsl(urlsplit(self_link).query)


def test_search_of_a_type_the_base_does_not_serve_is_404(client: TestClient) -> None:
    response = client.get(f"{PD}/ExplanationOfBenefit")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
