"""Run the whole asset graph in process (the `interop run` command and the end-to-end tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
from dagster_shared.error import SerializableErrorInfo


@dataclass
class RunOutcome:
    success: bool
    checks: dict[str, bool] = field(default_factory=dict)
    warnings: dict[str, bool] = field(default_factory=dict)
    metadata: dict[str, dict[str, object]] = field(default_factory=dict)
    failure: str = ""

    def report(self) -> str:
        lines = []
        for asset, values in self.metadata.items():
            shown = ", ".join(
                f"{k}={v}"
                for k, v in values.items()
                if "/" not in k or k.startswith("quarantined/")
            )
            lines.append(f"{asset}: {shown}")
        lines += [
            f"check {name}: {'passed' if ok else 'FAILED'}"
            for name, ok in sorted(self.checks.items())
        ]
        lines += [
            f"check {name}: {'passed' if ok else 'warning (see its metadata)'}"
            for name, ok in sorted(self.warnings.items())
        ]
        if self.failure:
            lines.append(self.failure)
        lines.append("run succeeded" if self.success else "run FAILED")
        return "\n".join(lines)


def _metadata_value(value: object) -> object:
    return getattr(value, "value", value)


def run_pipeline(
    resources: dict[str, object] | None = None, instance: dg.DagsterInstance | None = None
) -> RunOutcome:
    """Materialize every asset and check; resources default to the embedded defaults."""
    from pipelines import definitions

    result = dg.materialize(
        [*definitions.all_assets, *definitions.all_checks],
        resources=resources or definitions.default_resources(),
        instance=instance,
        raise_on_error=False,
    )
    metadata = {
        event.asset_key.to_user_string(): {
            key: _metadata_value(value)
            for key, value in event.step_materialization_data.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
    }
    evaluations = result.get_asset_check_evaluations()
    checks, warnings = {}, {}
    for evaluation in evaluations:
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        warned = evaluation.severity == dg.AssetCheckSeverity.WARN
        (warnings if warned else checks)[name] = evaluation.passed
    failures = [
        f"{event.step_key} failed: {_root_cause(event.step_failure_data.error)}"
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data.error is not None
    ]
    return RunOutcome(
        success=result.success and all(checks.values()),
        checks=checks,
        warnings=warnings,
        metadata=metadata,
        failure="\n".join(failures),
    )


def _root_cause(error: SerializableErrorInfo) -> str:
    """The innermost error message: the user's problem, not Dagster's wrapper of it."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()
