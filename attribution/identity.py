"""Identity stitching: connected components of an identifier graph, deterministically labelled."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa


def component_labels(left: np.ndarray, right: np.ndarray, nodes: int) -> np.ndarray:
    """For nodes numbered 0..nodes-1 and edges `left[k]`-`right[k]`, each node's smallest node number in its
    component. Whole-array steps: min-label propagation with pointer jumping."""
    labels = np.arange(nodes)
    while True:
        smallest = np.minimum(labels[left], labels[right])
        updated = labels.copy()
        np.minimum.at(updated, left, smallest)
        np.minimum.at(updated, right, smallest)
        updated = updated[updated]  # pointer jumping: follow labels to their own labels
        while not np.array_equal(updated, updated[updated]):
            updated = updated[updated]
        if np.array_equal(updated, labels):
            return labels
        labels = updated


def connected_components(con: duckdb.DuckDBPyConnection, edges: duckdb.DuckDBPyRelation
                         ) -> duckdb.DuckDBPyRelation:
    """Nodes and their component, from a relation of edges with columns `node_a`, `node_b` (on `con`).

    Returns `node`, `person_id`: every node of a component gets the same id, the md5 of the component's
    smallest node key, so ids are stable across runs and independent of row order. The keys stay in DuckDB:
    they are numbered in key order there, and only the numbers come to Python (8 bytes an end of an edge, where
    a frame of the keys took some 100 bytes a key).
    """
    con.register("identity_edges", edges)
    con.execute("""
        create or replace temp table identity_nodes as
        select node, (row_number() over (order by node) - 1)::bigint as number
        from (select node_a as node from identity_edges union select node_b from identity_edges)
    """)
    numbered = con.sql("""
        select a.number as a, b.number as b
        from identity_edges as e
        inner join identity_nodes as a on a.node = e.node_a
        inner join identity_nodes as b on b.node = e.node_b
    """).fetchnumpy()
    nodes = con.sql("select count(*) from identity_nodes").fetchone()[0]
    labels = component_labels(np.asarray(numbered["a"], dtype=np.int64), np.asarray(numbered["b"], dtype=np.int64),
                              nodes)
    con.register("identity_labels", pa.table({"number": np.arange(nodes), "label": labels}))
    # numbered in key order, so the smallest number is the smallest key
    return con.sql("""
        select n.node, md5(r.node) as person_id
        from identity_labels as l
        inner join identity_nodes as n on n.number = l.number
        inner join identity_nodes as r on r.number = l.label
    """)
