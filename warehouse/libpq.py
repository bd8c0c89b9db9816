"""libpq's `key=value` connection settings (`dbname=metastore host=db port=5432 user=spark password='a b'`), the
form in which a DuckLake's Postgres catalog and Spark's Hive metastore are configured: read once here."""

from __future__ import annotations

import re

# a value is single-quoted (and may then hold spaces and escaped quotes) or runs to the next space
SETTING = re.compile(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def settings(conninfo: str) -> dict[str, str]:
    """Each key's value, unquoted."""
    return {key: unquoted(value) for key, value in SETTING.findall(conninfo)}


def redacted(conninfo: str) -> str:
    """The settings as given, the password's value (quoted or not) replaced, for a summary or an error."""
    return SETTING.sub(lambda m: f"{m[1]}=***" if m[1] == "password" else m[0], conninfo)


def unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
