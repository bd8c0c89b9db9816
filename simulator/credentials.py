"""Fixed sandbox credentials; documented in the README and pre-filled in `.dlt/config.toml`."""

CREDENTIALS: dict[str, dict[str, str]] = {
    "clickmagick": {"api_key": "cm-sandbox-key"},
    "integr8": {"api_key": "i8-sandbox-key"},
    "webmarketer": {"client_id": "wm-sandbox-client", "client_secret": "wm-sandbox-secret"},
    "improvely": {"api_key": "imp-sandbox-key"},
    "convertloop": {"app_id": "cl-sandbox-app", "api_key": "cl-sandbox-key"},
}
