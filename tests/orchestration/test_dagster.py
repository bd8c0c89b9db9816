"""The Dagster assets (orchestration/) against the sandbox, in-process: the whole job gives the same marts as the
runner on the same world; a second materialization loads nothing and skips the build; a vendor with a wrong key
fails only its own assets."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import JOB, build_definitions
from pipelines.fingerprint import fingerprints
from pipelines.registry import SOURCES
from tests.warehouse import sandbox_env


def step_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, str]:
    kinds = {"STEP_SUCCESS": "success", "STEP_FAILURE": "failure", "STEP_SKIPPED": "skipped"}
    return {event.step_key: kinds[event.event_type_value] for event in result.all_events
            if event.event_type_value in kinds}


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {event.asset_key.to_user_string(): {k: v.value for k, v in event.materialization.metadata.items()}
            for event in result.get_asset_materialization_events()}


def run_job(definitions: dg.Definitions) -> dg.ExecuteInProcessResult:
    return definitions.resolve_job_def(JOB).execute_in_process(raise_on_error=False)


def test_the_whole_job_builds_the_runners_marts_then_skips_when_nothing_is_new(sandbox, full_run, tmp_path,
                                                                              monkeypatch):
    # The runner's marts: `full_run` is `python -m pipelines.run --no-push` on a sandbox of the same world, seed
    # and scale as `sandbox`, configured as here.
    for key, value in sandbox_env(sandbox, list(SOURCES)).items():
        monkeypatch.setenv(key, value)
    runner_wh, dagster_wh = full_run.warehouse, tmp_path / "dagster.duckdb"

    definitions = build_definitions(str(dagster_wh))
    first = run_job(definitions)
    outcomes = step_outcomes(first)
    assert first.success, outcomes
    assert {f"{vendor}_tables" for vendor in SOURCES} | {"transforms", "publish"} <= set(outcomes)
    assert all(outcome == "success" for outcome in outcomes.values()), outcomes
    built = materialized(first)
    assert built["clickmagick/sales"]["rows"] > 0 and "marts/attribution" in built and "published_marts" in built
    assert (dagster_wh.parent / "dagster_published" / "snapshot.duckdb").exists()
    assert fingerprints(str(dagster_wh)) == fingerprints(str(runner_wh))
    checks = first.get_asset_check_evaluations()  # every dbt test, as a check of the asset it tests
    assert len(checks) == len(definitions.resolve_asset_graph().asset_check_keys) > 100
    assert all(check.passed for check in checks)

    second = run_job(definitions)  # nothing new: every table read, no row loaded, no build, nothing published
    again = materialized(second)
    assert second.success, step_outcomes(second)
    vendor_tables = {key for key in built if key.split("/")[0] in SOURCES}
    assert set(again) == vendor_tables  # every vendor table read; no model, no publication
    assert all(meta["rows"] == 0 for meta in again.values()), again
    assert step_outcomes(second)["publish"] == "skipped"
    assert fingerprints(str(dagster_wh)) == fingerprints(str(runner_wh))

    monkeypatch.setenv("SOURCES__CLICKMAGICK__API_KEY", "wrong-key")
    third = run_job(definitions)
    outcomes = step_outcomes(third)
    assert outcomes["clickmagick_tables"] == "failure"
    assert {outcomes[f"{vendor}_tables"] for vendor in SOURCES if vendor != "clickmagick"} == {"success"}
    failure = next(event for event in third.all_events if event.event_type_value == "STEP_FAILURE")
    assert "ClickMagick" in str(failure.event_specific_data.error) and "wrong-key" not in str(
        failure.event_specific_data.error)
    # downstream of a failed asset: not built in this run (the next good one builds)
    assert outcomes.get("transforms") != "success"
    assert all(key.split("/")[0] in SOURCES for key in materialized(third))
