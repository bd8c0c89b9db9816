"""One person per connected component of the identifier graph (see attribution.identity)."""

from attribution.identity import connected_components


def model(dbt, session):
    dbt.config(materialized="table")
    return connected_components(session, dbt.ref("int_identity__edges"))
