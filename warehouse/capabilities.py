"""dlt destination factories that resolve their capabilities once per naming convention.

dlt asks a pipeline's destination factory for its capabilities about 240 times in a first run at test scale
(34 in a run with nothing new): around every extract, normalize and load step and for each file writer. Each
time it resolves the destination's whole configuration from every config provider (~10 ms of CPU), only to
adjust the capabilities to the schema's naming convention and the settings given to the factory: ~1 s of CPU
of a first run. Neither changes while a run goes on, so the answer is kept per naming convention; each caller
gets its own copy (dlt changes the one it gets).
"""

from __future__ import annotations

import copy
from typing import Any

from dlt_adapter import Destination, DestinationCapabilitiesContext, NamingConvention


def capabilities_resolved_once(factory: Destination) -> Destination:
    """`factory` (dlt's own class, so pipeline state records the destination type it always did) with
    `capabilities()` resolved once per naming convention; an explicit config is resolved as dlt does."""
    resolve = factory.capabilities
    known: dict[Any, DestinationCapabilitiesContext] = {}

    def capabilities(config: Any = None, naming: NamingConvention | None = None) -> DestinationCapabilitiesContext:
        if config is not None:
            return resolve(config, naming)
        key = None if naming is None else (type(naming), naming.is_case_sensitive, naming.max_length)
        if key not in known:
            known[key] = resolve(None, naming)
        return copy.deepcopy(known[key])

    factory.capabilities = capabilities  # type: ignore[method-assign]
    return factory
