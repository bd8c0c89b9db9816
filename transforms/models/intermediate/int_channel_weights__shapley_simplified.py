"""Channel credit by the simplified Shapley value over the path summary (see attribution.datadriven): the
worth of a set of channels is the conversions of paths within it, so non-converting journeys count for nothing."""

from attribution import relations
from attribution.datadriven import shapley_attribution


def model(dbt, session):
    dbt.config(materialized="table")
    return relations.table(session, shapley_attribution(relations.frame(dbt.ref("int_paths__summarised"))))
