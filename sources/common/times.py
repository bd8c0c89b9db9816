"""Times as the sources read and write them: aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, date, datetime


def utc(value: str | datetime | date) -> datetime:
    """An aware UTC datetime from ISO-8601 text (`Z` or an offset) or a datetime; naive means UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        text = value.strip()
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
