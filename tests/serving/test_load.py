"""Versioned diff-load: versions, unchanged content, snapshot tombstones, atomicity."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from serving import load
from serving.load import DomainBatch, LoadSummary, TypeCounts, content_hash, load_resources
from serving.store import (
    history_table,
    loads_table,
    read_current,
    read_history,
    resources_table,
)

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
T2 = T0 + timedelta(days=2)
PROFILE = "http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Practitioner"


def practitioner(rid: str, family: str = "Smith") -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": rid,
        "meta": {"profile": [PROFILE]},
        "name": [{"family": family}],
    }


def patient(rid: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": rid, "gender": "unknown"}


def roster(*ids: str) -> list[dict[str, Any]]:
    return [practitioner(rid) for rid in ids]


def row_count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def current_state(engine: sa.Engine) -> list[tuple[Any, ...]]:
    r = resources_table
    query = sa.select(r.c.resource_type, r.c.id, r.c.version_id, r.c.last_updated, r.c.deleted)
    with engine.connect() as conn:
        return sorted(tuple(row) for row in conn.execute(query))


@pytest.fixture(params=[True, False], ids=["copy", "insert"])
def write_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both PostgreSQL write paths (COPY and batched INSERT); SQLite always inserts."""
    monkeypatch.setattr(load, "USE_POSTGRES_COPY", request.param)
    return request.param


def test_first_load_is_version_one_at_load_time(engine: sa.Engine, write_path: bool) -> None:
    summary = load_resources(engine, [roster("a", "b"), roster("c")], load_time=T0)

    assert summary.counts == {"Practitioner": TypeCounts(added=3)}
    for rid in "abc":
        stored = read_current(engine, "Practitioner", rid)
        assert stored is not None
        assert (stored.version_id, stored.last_updated, stored.deleted) == (1, T0, False)
        assert stored.resource == {
            **practitioner(rid),
            "meta": {
                "profile": [PROFILE],
                "versionId": "1",
                "lastUpdated": "2026-12-04T02:00:00+00:00",
            },
        }
        assert read_history(engine, "Practitioner", rid)[0].resource == stored.resource


def test_stored_json_is_an_object(engine: sa.Engine, write_path: bool) -> None:
    load_resources(engine, [roster("a")], load_time=T0)
    load_resources(engine, [[practitioner("a", family="Jones")]], load_time=T1)
    type_of = "jsonb_typeof" if engine.dialect.name == "postgresql" else "json_type"
    for table in (resources_table, history_table):
        query = sa.select(sa.func.distinct(getattr(sa.func, type_of)(table.c.resource)))
        with engine.connect() as conn:
            assert conn.execute(query).scalars().all() == ["object"]


def test_identical_reload_writes_nothing(engine: sa.Engine) -> None:
    load_resources(engine, [roster("a", "b")], load_time=T0)
    before = current_state(engine)

    summary = load_resources(engine, [roster("a", "b")], load_time=T1)

    assert summary.counts == {"Practitioner": TypeCounts(unchanged=2)}
    assert current_state(engine) == before
    assert row_count(engine, history_table) == 2


def test_rebuilt_resource_with_new_meta_times_is_unchanged(engine: sa.Engine) -> None:
    load_resources(engine, [roster("a")], load_time=T0)
    rebuilt = practitioner("a")
    rebuilt["meta"] |= {"lastUpdated": T1.isoformat(), "versionId": "7"}

    summary = load_resources(engine, [[rebuilt]], load_time=T1)

    assert summary.counts["Practitioner"] == TypeCounts(unchanged=1)
    stored = read_current(engine, "Practitioner", "a")
    assert stored is not None
    assert (stored.version_id, stored.last_updated) == (1, T0)


def test_one_change_makes_exactly_one_new_version(engine: sa.Engine) -> None:
    load_resources(engine, [roster("a", "b", "c")], load_time=T0)

    batch = [practitioner("a"), practitioner("b", family="Jones"), practitioner("c")]
    summary = load_resources(engine, [batch], load_time=T1)

    assert summary.counts["Practitioner"] == TypeCounts(changed=1, unchanged=2)
    changed = read_current(engine, "Practitioner", "b")
    assert changed is not None
    assert (changed.version_id, changed.last_updated) == (2, T1)
    assert changed.resource is not None
    assert changed.resource["meta"]["versionId"] == "2"
    assert changed.resource["name"] == [{"family": "Jones"}]
    history = read_history(engine, "Practitioner", "b")
    assert [(v.version_id, v.resource["name"][0]["family"]) for v in history if v.resource] == [
        (1, "Smith"),
        (2, "Jones"),
    ]
    for rid in "ac":
        assert len(read_history(engine, "Practitioner", rid)) == 1
    assert row_count(engine, history_table) == 4


def test_snapshot_tombstones_absent_and_revives_returning(engine: sa.Engine) -> None:
    load_resources(engine, [roster("a", "b")], load_time=T0, snapshot_types={"Practitioner"})

    summary = load_resources(engine, [roster("a")], load_time=T1, snapshot_types={"Practitioner"})

    assert summary.counts["Practitioner"] == TypeCounts(unchanged=1, deleted=1)
    gone = read_current(engine, "Practitioner", "b")
    assert gone is not None
    assert (gone.version_id, gone.deleted, gone.last_updated, gone.resource) == (2, True, T1, None)
    history = read_history(engine, "Practitioner", "b")
    assert [(v.version_id, v.deleted) for v in history] == [(1, False), (2, True)]
    assert history[0].resource == {
        **practitioner("b"),
        "meta": {"profile": [PROFILE], "versionId": "1", "lastUpdated": T0.isoformat()},
    }

    again = load_resources(
        engine, [roster("a", "b")], load_time=T2, snapshot_types=["Practitioner"]
    )

    assert again.counts["Practitioner"] == TypeCounts(changed=1, unchanged=1)
    back = read_current(engine, "Practitioner", "b")
    assert back is not None
    assert (back.version_id, back.deleted, back.last_updated) == (3, False, T2)
    assert back.resource is not None
    assert back.resource["meta"]["versionId"] == "3"


def test_tombstone_is_not_repeated(engine: sa.Engine) -> None:
    load_resources(engine, [roster("a", "b")], load_time=T0, snapshot_types=["Practitioner"])
    load_resources(engine, [roster("a")], load_time=T1, snapshot_types=["Practitioner"])

    summary = load_resources(engine, [roster("a")], load_time=T2, snapshot_types=["Practitioner"])

    assert summary.counts["Practitioner"] == TypeCounts(unchanged=1)
    assert len(read_history(engine, "Practitioner", "b")) == 2


def test_incremental_types_are_not_tombstoned(engine: sa.Engine) -> None:
    load_resources(engine, [[patient("p1"), *roster("a")]], load_time=T0)

    summary = load_resources(
        engine, [[patient("p2"), *roster("a")]], load_time=T1, snapshot_types=["Practitioner"]
    )

    assert summary.counts == {
        "Patient": TypeCounts(added=1),
        "Practitioner": TypeCounts(unchanged=1),
    }
    kept = read_current(engine, "Patient", "p1")
    assert kept is not None
    assert not kept.deleted


def test_snapshot_domain_tombstones_only_its_own_resources(engine: sa.Engine) -> None:
    # Claims and the directory both emit Practitioner: replacing the directory must not touch
    # the practitioners the claims domain serves.
    load_resources(
        engine,
        [DomainBatch("claims", roster("c1")), DomainBatch("providers", roster("d1", "d2"))],
        load_time=T0,
        snapshot_domains=["providers"],
    )

    summary = load_resources(
        engine,
        [DomainBatch("providers", roster("d1"))],
        load_time=T1,
        snapshot_domains=["providers"],
    )

    assert summary.counts == {"Practitioner": TypeCounts(unchanged=1, deleted=1)}
    current = [read_current(engine, "Practitioner", rid) for rid in ("c1", "d1", "d2")]
    assert [(c.domain, c.deleted, c.version_id) for c in current if c] == [
        ("claims", False, 1),
        ("providers", False, 1),
        ("providers", True, 2),
    ]
    assert [v.domain for v in read_history(engine, "Practitioner", "d2")] == ["providers"] * 2


def test_empty_snapshot_domain_tombstones_the_domain(engine: sa.Engine) -> None:
    load_resources(engine, [DomainBatch("formulary", roster("f1"))], load_time=T0)

    summary = load_resources(engine, [], load_time=T1, snapshot_domains=["formulary"])

    assert summary.counts == {"Practitioner": TypeCounts(deleted=1)}


@pytest.mark.parametrize(
    "batches",
    [[roster("a", "b", "a")], [roster("a", "b"), roster("c", "a")]],
    ids=["same-batch", "across-batches"],
)
def test_duplicate_in_one_load_raises(engine: sa.Engine, batches: list[list[dict]]) -> None:
    with pytest.raises(ValueError, match="duplicate Practitioner/a"):
        load_resources(engine, batches, load_time=T0)
    assert row_count(engine, resources_table) == 0


def test_same_id_in_two_types_is_not_a_duplicate(engine: sa.Engine) -> None:
    summary = load_resources(engine, [[patient("x")], [practitioner("x")]], load_time=T0)
    assert summary.to_metadata()["added"] == 2


def test_failure_mid_load_rolls_back_everything(engine: sa.Engine) -> None:
    load_resources(engine, [roster("a", "b")], load_time=T0, snapshot_types=["Practitioner"])
    before = current_state(engine)

    def failing_batches() -> Iterator[list[dict[str, Any]]]:
        yield [practitioner("a", family="Jones"), practitioner("new")]
        raise RuntimeError("source broke midway")

    with pytest.raises(RuntimeError, match="midway"):
        load_resources(engine, failing_batches(), load_time=T1, snapshot_types=["Practitioner"])

    assert current_state(engine) == before
    assert row_count(engine, history_table) == 2
    assert row_count(engine, loads_table) == 1
    # The store (and its pooled connections) stay usable after the rollback.
    summary = load_resources(engine, [roster("a", "b")], load_time=T2)
    assert summary.counts["Practitioner"] == TypeCounts(unchanged=2)


def test_lookups_are_chunked(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_IDS_PER_QUERY", 2)
    load_resources(engine, [roster("a", "b", "c", "d", "e")], load_time=T0)
    batch = [*roster("a", "b", "c", "d"), practitioner("e", family="Jones")]
    summary = load_resources(engine, [batch], load_time=T1)
    assert summary.counts["Practitioner"] == TypeCounts(changed=1, unchanged=4)
    with pytest.raises(ValueError, match="duplicate Practitioner/c"):
        load_resources(engine, [roster("a", "b", "c"), roster("d", "c")], load_time=T2)


def test_load_is_recorded(engine: sa.Engine) -> None:
    summary = load_resources(engine, [roster("a"), [patient("p")]], load_time=T0)

    with engine.connect() as conn:
        row = conn.execute(sa.select(loads_table)).one()
    assert row.load_id == summary.load_id
    assert row.started_at <= row.finished_at
    assert row.counts["Practitioner"] == {"added": 1, "changed": 0, "unchanged": 0, "deleted": 0}


def test_stored_hash_matches_stored_content(engine: sa.Engine) -> None:
    load_resources(engine, [[patient("p")]], load_time=T0)
    stored = read_current(engine, "Patient", "p")
    assert stored is not None and stored.resource is not None
    assert content_hash(stored.resource) == stored.content_hash == content_hash(patient("p"))


def test_content_hash_ignores_version_and_time_only() -> None:
    base = practitioner("a")
    stamped = {**base, "meta": {**base["meta"], "versionId": "3", "lastUpdated": T2.isoformat()}}
    assert content_hash(stamped) == content_hash(base)
    assert content_hash({**base, "meta": {}}) == content_hash(
        {k: base[k] for k in base if k != "meta"}
    )
    assert content_hash({**base, "meta": {"profile": ["other"]}}) != content_hash(base)
    assert content_hash(practitioner("a", family="Jones")) != content_hash(base)


def test_content_hash_is_stable_across_releases() -> None:
    # Stored hashes must keep matching: a changed digest would version every resource again.
    eob = {
        "resourceType": "ExplanationOfBenefit",
        "id": "eob1",
        "meta": {"lastUpdated": T1.isoformat(), "versionId": "4", "profile": ["urn:eob"]},
        "total": [{"amount": {"value": Decimal("12.50"), "currency": "USD"}}],
        "contained": [{"resourceType": "Patient", "id": "p", "meta": {"profile": ["urn:p"]}}],
        "status": "active",
    }
    assert content_hash(eob) == "e807ed7532e89fa91cfbc0cf3834dcde87f3fc6c528fd77f054f63251ab9e651"


def test_content_hash_is_sha256_of_key_sorted_json() -> None:
    odd = {
        "resourceType": "Basic",
        "id": "b",
        "zeta": {"b": "nul \x00 in text", "a": 1},
        "meta": {"versionId": "2", "tag": [{"code": "\x00"}]},
        "alpha": [{"\x00key": True}],
    }
    body = {**{k: v for k, v in odd.items() if k != "meta"}, "meta": {"tag": [{"code": "\x00"}]}}
    canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    assert content_hash(odd) == hashlib.sha256(canonical).hexdigest()


def test_escaped_text_round_trips(engine: sa.Engine, write_path: bool) -> None:
    odd = {**practitioner("a"), "name": [{"family": 'Tab\tQuote"Back\\slash\nÆ', "text": "\u2028"}]}
    load_resources(engine, [[odd]], load_time=T0)

    stored = read_current(engine, "Practitioner", "a")
    assert stored is not None and stored.resource is not None
    assert stored.resource["name"] == odd["name"]
    assert content_hash(stored.resource) == stored.content_hash == content_hash(odd)
    again = load_resources(engine, [[odd]], load_time=T1)
    assert again.counts["Practitioner"] == TypeCounts(unchanged=1)


@pytest.mark.parametrize("enabled", [True, False])
def test_garbage_collector_state_is_restored(engine: sa.Engine, enabled: bool) -> None:
    def failing() -> Iterator[list[dict[str, Any]]]:
        yield roster("a")
        raise RuntimeError("source broke")

    was_enabled = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        load_resources(engine, [roster("b")], load_time=T0)
        assert gc.isenabled() is enabled
        with pytest.raises(RuntimeError):
            load_resources(engine, failing(), load_time=T1)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was_enabled else gc.disable()


def test_invalid_arguments(engine: sa.Engine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        load_resources(engine, [roster("a")], load_time=datetime(2026, 12, 4))
    with pytest.raises(TypeError, match="collection"):
        load_resources(engine, [roster("a")], load_time=T0, snapshot_types="Practitioner")
    with pytest.raises(ValueError, match="without resourceType"):
        load_resources(engine, [[{"resourceType": "Patient"}]], load_time=T0)


def test_summary_metadata_is_flat_ints() -> None:
    summary = LoadSummary(
        load_id="x",
        counts={"Patient": TypeCounts(added=2), "Practitioner": TypeCounts(unchanged=1, deleted=3)},
    )
    metadata = summary.to_metadata()
    assert metadata["added"] == 2
    assert metadata["deleted"] == 3
    assert metadata["Practitioner.unchanged"] == 1
    assert all(type(value) is int for value in metadata.values())


def test_decimal_amounts_load(engine: sa.Engine) -> None:
    claim = {"resourceType": "Claim", "id": "c1", "total": {"value": Decimal("12.50")}}
    load_resources(engine, [[claim]], load_time=T0)
    stored = read_current(engine, "Claim", "c1")
    assert stored is not None and stored.resource is not None
    assert stored.resource["total"]["value"] == 12.5
    assert content_hash(claim) != content_hash({**claim, "total": {"value": Decimal("12.5")}})


def test_concurrent_loads_queue_instead_of_failing(engine: sa.Engine) -> None:
    def run(prefix: str) -> LoadSummary:
        batches = [roster(*(f"{prefix}{b}-{n}" for n in range(50))) for b in range(5)]
        return load_resources(engine, batches, load_time=T0)

    with ThreadPoolExecutor(max_workers=2) as pool:
        summaries = list(pool.map(run, ["x", "y"]))

    assert [s.counts["Practitioner"].added for s in summaries] == [250, 250]
    assert row_count(engine, resources_table) == 500


def test_a_large_load_refreshes_postgres_planner_statistics(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's")
    monkeypatch.setattr(load, "ANALYZE_AFTER_ROWS", 2)

    def analyzed() -> int:
        with engine.connect() as conn:
            return conn.exec_driver_sql(
                "SELECT analyze_count FROM pg_stat_user_tables "
                "WHERE relname = 'resources' AND schemaname = current_schema()"
            ).scalar_one()

    load_resources(engine, [roster("a")], load_time=T0)  # one version: below the threshold
    before = analyzed()
    load_resources(engine, [roster("b", "c")], load_time=T1)
    assert analyzed() > before
