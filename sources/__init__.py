"""dlt sources, one package per vendor; shared HTTP and incremental helpers in `sources.common`."""
