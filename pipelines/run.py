"""Run the whole asset graph in process (the `interop run` command and the end-to-end tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg


@dataclass
class RunOutcome:
    success: bool
    checks: dict[str, bool] = field(default_factory=dict)
    metadata: dict[str, dict[str, object]] = field(default_factory=dict)

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
    checks = {
        f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}": evaluation.passed
        for evaluation in result.get_asset_check_evaluations()
    }
    return RunOutcome(
        success=result.success and all(checks.values()), checks=checks, metadata=metadata
    )
