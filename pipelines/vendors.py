"""Vendor settings as the operator gives them: environment keys, and sandbox credentials for loopback URLs."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import dlt

from pipelines.registry import SOURCES
from vendor_http import LOOPBACK_HOSTS

LOOPBACK = LOOPBACK_HOSTS  # a vendor on this machine: the sandbox


def env_key(vendor: str, key: str) -> str:
    return f"SOURCES__{vendor.upper()}__{key.upper()}"


def sandbox_settings(base_url: str, vendors: list[str]) -> dict[str, str]:
    """The environment that points `vendors` at a sandbox: base URLs and its fixed public credentials."""
    from simulator.credentials import CREDENTIALS

    settings = {}
    for vendor in vendors:
        settings[env_key(vendor, "base_url")] = f"{base_url.rstrip('/')}/{vendor}"
        settings.update({env_key(vendor, key): value for key, value in CREDENTIALS[vendor].items()})
    return settings


def use_sandbox(base_url: str, vendors: list[str]) -> None:
    """Point `vendors` at a sandbox in this process (the demo, benchmarks)."""
    os.environ.update(sandbox_settings(base_url, vendors))


def fill_sandbox_credentials(vendors: list[str]) -> None:
    """A vendor configured at a loopback sandbox URL without secrets gets the sandbox's public ones
    (from `[sandbox.<vendor>]` in config.toml). Real hosts never do."""
    for vendor in vendors:
        base_url = dlt.config.get(f"sources.{vendor}.base_url") or ""
        if urlsplit(base_url).hostname not in LOOPBACK:
            continue
        for key in SOURCES[vendor].secrets:
            if dlt.secrets.get(f"sources.{vendor}.{key}") is None:
                value = dlt.config.get(f"sandbox.{vendor}.{key}")
                if value:
                    os.environ[env_key(vendor, key)] = str(value)
