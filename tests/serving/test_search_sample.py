"""The plan's example calls on the whole pipeline's output for sample_inputs/, on both backends;
and the committed compiled search parameters are what the IG packages compile to."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from serving.apis import PATIENT_ACCESS, PROVIDER_DIRECTORY, Api
from serving.search import search
from serving.search.compile import COMPILED_FILE, compile_search, default_ig_dir, render
from serving.store import resources_table
from tests.test_end_to_end import Pipeline, pipeline  # noqa: F401  (the fixture)


def _count(engine: sa.Engine, api: Api, rtype: str, params: list[tuple[str, str]]) -> int:
    result = search(engine, api, rtype, params, count=0, want_total=True)
    return result.total or 0


def test_example_calls_answer_on_the_sample_drop(pipeline: Pipeline) -> None:  # noqa: F811
    outcome = pipeline.run()
    assert outcome.success, outcome.report()
    engine = pipeline.engine
    try:
        directory = PROVIDER_DIRECTORY
        assert _count(
            engine, directory, "Location", [("name", "ortho"), ("address-postalcode", "14618")]
        )
        assert _count(engine, directory, "Organization", [("address-postalcode", "10533")])
        assert _count(engine, directory, "PractitionerRole", [("location.address", "1783 Route 9")])
        r = resources_table
        with engine.connect() as conn:
            patients = conn.execute(
                sa.select(r.c.id).where(r.c.resource_type == "Patient").order_by(r.c.id)
            ).scalars()
            patient_ids = list(patients)
        pharmacy = [
            p
            for p in patient_ids
            if _count(
                engine,
                PATIENT_ACCESS,
                "ExplanationOfBenefit",
                [("patient", p), ("type", "pharmacy")],
            )
        ]
        assert pharmacy
        mine = search(
            engine, PATIENT_ACCESS, "ExplanationOfBenefit", [], count=100, patient=pharmacy[0]
        )
        assert mine.matches
        assert all(
            m.resource["patient"]["reference"] == f"Patient/{pharmacy[0]}" for m in mine.matches
        )
    finally:
        engine.dispose()


@pytest.mark.skipif(
    not default_ig_dir().is_dir(), reason=f"IG packages not found at {default_ig_dir()}"
)
def test_compiled_search_parameters_are_up_to_date() -> None:
    assert COMPILED_FILE.read_text("utf-8") == render(compile_search(default_ig_dir())), (
        "run `interop compile-search`"
    )
