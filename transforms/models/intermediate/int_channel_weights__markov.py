"""Channel credit by Markov removal effect over the path summary (see attribution.datadriven): of the
conversions, or with var markov_weight = value of the revenue."""

from attribution import relations
from attribution.datadriven import markov_attribution


def model(dbt, session):
    dbt.config(materialized="table")
    order = int(dbt.config.get("markov_order") or 1)
    weight = dbt.config.get("markov_weight") or "conversions"
    paths = relations.frame(dbt.ref("int_paths__summarised"))
    return relations.table(session, markov_attribution(paths, order=order, weight=weight))
