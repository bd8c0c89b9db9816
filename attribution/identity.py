"""Identity stitching: connected components of an identifier graph, deterministically labelled."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def connected_components(edges: pd.DataFrame) -> pd.DataFrame:
    """Nodes and their component, from an edge list with columns `node_a`, `node_b`.

    Returns `node`, `person_id`: every node of a component gets the same id, the md5 of the
    component's smallest node key, so ids are stable across runs and independent of row order.
    Runs in whole-array steps (min-label propagation with pointer jumping).
    """
    a = edges["node_a"].astype(str).to_numpy()
    b = edges["node_b"].astype(str).to_numpy()
    nodes, index = np.unique(np.concatenate([a, b]), return_inverse=True)
    left, right = index[: len(a)], index[len(a) :]
    labels = np.arange(len(nodes))
    while True:
        smallest = np.minimum(labels[left], labels[right])
        updated = labels.copy()
        np.minimum.at(updated, left, smallest)
        np.minimum.at(updated, right, smallest)
        updated = updated[updated]  # pointer jumping: follow labels to their own labels
        while not np.array_equal(updated, updated[updated]):
            updated = updated[updated]
        if np.array_equal(updated, labels):
            break
        labels = updated
    roots = nodes[labels]  # nodes are sorted, so the smallest index is the smallest key
    ids = {root: hashlib.md5(root.encode()).hexdigest() for root in np.unique(roots)}
    # Explicit string dtype: with no edges an empty object column would reach DuckDB as DOUBLE.
    return pd.DataFrame({"node": nodes, "person_id": [ids[r] for r in roots]}, dtype="string")
