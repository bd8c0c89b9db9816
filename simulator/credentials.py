"""Fixed sandbox credentials, from each vendor module; documented in the README and in `.dlt/config.toml`."""

from simulator.vendors import MODULES

CREDENTIALS: dict[str, dict[str, str]] = {name: dict(module.CREDENTIALS) for name, module in MODULES.items()}
