"""Channel credit by Shapley value over the path summary (see attribution.datadriven)."""

from attribution.datadriven import shapley_attribution


def model(dbt, session):
    dbt.config(materialized="table")
    return shapley_attribution(dbt.ref("int_paths__summarised").df())
