"""What a destination declares: its outboxes (dbt models the push reads), its secrets, and a client that
turns an outbox row into a payload and sends it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Outbox:
    name: str  # the ledger's `object`, e.g. "conversions"
    model: str  # the dbt model in schema `outbox`, e.g. "outbox_improvely__conversions"
    append_only: bool = False  # True: each key is sent once (an event log); False: re-sent when it changes


class Skip(str):
    """A payload builder's reason not to send a row (e.g. no Improvely project for its brand)."""


class DestinationClient(Protocol):
    def payload(self, outbox: Outbox, row: dict[str, Any]) -> dict[str, Any] | Skip:
        """The row as the vendor will receive it (what the ledger hashes), or why it cannot be sent."""

    def send(self, outbox: Outbox, payload: dict[str, Any], previous: dict[str, Any] | None) -> str:
        """One request; returns the vendor's answer (short). `previous` is the payload last sent for the
        row's key, e.g. to move a person out of a segment. Raises vendor_http.VendorError."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class DestinationSpec:
    name: str  # the config section `[destinations.<name>]` and the summary's name
    outboxes: tuple[Outbox, ...]
    settings: dict[str, type]  # config.toml keys and their types, e.g. {"base_url": str}
    secrets: tuple[str, ...]  # settings that belong in secrets.toml
    client: Callable[[dict[str, Any]], DestinationClient]  # built from the destination's settings
