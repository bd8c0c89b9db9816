"""The dbt project the warehouse is built by, as readers need to know it: where it is, and its settings that
name things in the marts (the attribution models, the channels). The one list of models is the
`attribution_models` var of `transforms/dbt_project.yml`, of channels the seed `channel_groups.csv`; everything
else (the runner, the dashboard, benchmarks) reads them here."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import yaml

TRANSFORMS = Path(__file__).resolve().parent.parent / "transforms"


@functools.cache
def _project() -> dict:
    return yaml.safe_load((TRANSFORMS / "dbt_project.yml").read_text())


def attribution_models() -> dict[str, list[str]]:
    """The `attribution_models` var of dbt_project.yml (heuristic and data_driven lists): the one list."""
    return {kind: list(names) for kind, names in _project()["vars"]["attribution_models"].items()}


def default_model() -> str | None:
    """The default data-driven model (the first of its list), which the marts' readers show first."""
    return (attribution_models().get("data_driven") or [None])[0]


@functools.cache
def channels() -> tuple[str, ...]:
    """The channels of seed `channel_groups.csv`, in its priority order: the one list of channels."""
    with (TRANSFORMS / "seeds" / "channel_groups.csv").open(newline="") as seed:
        rows = sorted(csv.DictReader(seed), key=lambda row: int(row["priority"]))
    return tuple(dict.fromkeys(row["channel"] for row in rows))


PERIOD_HOURS = {"minute": 1 / 60, "hour": 1, "day": 24}


def freshness_limit_hours() -> float | None:
    """The strictest `error_after` of the vendor sources in models/staging/_sources.yml, in hours: data older
    than this mean the scheduled run has stopped (dbt's `source freshness` errs, the dashboard warns)."""
    sources = yaml.safe_load((TRANSFORMS / "models" / "staging" / "_sources.yml").read_text())["sources"]
    limits = [((source.get("config") or {}).get("freshness") or {}).get("error_after") or {} for source in sources]
    hours = [limit["count"] * PERIOD_HOURS[limit["period"]] for limit in limits if limit.get("count")]
    return min(hours) if hours else None
