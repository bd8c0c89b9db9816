"""ClickMagick endpoints, limits and defaults, as data."""

from sources.common.contract import AMOUNT

VENDOR = "ClickMagick"
API_PREFIX = "/v1/campaigns"
PROJECTS_PATH = f"{API_PREFIX}/projects"
SETTINGS_PATH = f"{API_PREFIX}/projects/settings"
# Conversion logs per kind; the table name is the kind, the response key too.
KINDS = ("sales", "actions", "engagements")
ATTRIBUTION_MODELS = ("first_click", "last_click", "linear", "pos_based", "time_decay")
# Credits every click of a conversion's path: a re-read window is listed with it alone to tell what changed (the
# other models credit the same path), the other models only where something did.
PATH_MODEL = "linear"
UTM_FILTERS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
MAX_PAGE_SIZE = 100
DEFAULT_WINDOW_HOURS = 24  # ClickMagick limits work per 5 minutes; long windows are the expensive calls
DEFAULT_LOOKBACK_HOURS = 16 * 24  # refunds arrive within two weeks; two days of slack for a lagging mark
PRIMARY_KEY = "id"
CURSOR = "timestamp"
TIMESTAMP_FIELDS = ("timestamp", "refund_time")

_CLICK_IDS = {name: {"data_type": "text", "nullable": True} for name in ("gclid", "msclkid", "fbclid", "ttclid")}
_UTMS = {name: {"data_type": "text", "nullable": True} for name in UTM_FILTERS}
# Declared so every table has the same columns whatever a given load happens to contain.
CONVERSION_COLUMNS = {
    "id": {"data_type": "bigint", "nullable": False},
    "project_id": {"data_type": "bigint"},
    "timestamp": {"data_type": "timestamp", "nullable": False},
    "ref": {"data_type": "text"},
    "amt": {"data_type": "double", AMOUNT: True},
    "currency": {"data_type": "text"},
    "cogs": {"data_type": "double", AMOUNT: True},
    "status": {"data_type": "text"},
    "refund_time": {"data_type": "timestamp", "nullable": True},
    "cmc_vid": {"data_type": "text"},
    "s1": {"data_type": "text"},
    "email": {"data_type": "text", "nullable": True},
    "country": {"data_type": "text"},
    "ip": {"data_type": "text"},
    **_UTMS,
    **_CLICK_IDS,
}
CREDIT_COLUMNS = {
    "conversion_id": {"data_type": "bigint", "nullable": False},
    "attribution_model": {"data_type": "text", "nullable": False},
    "click_id": {"data_type": "bigint", "nullable": False},
    "click_timestamp": {"data_type": "timestamp"},
    "share": {"data_type": "double", "nullable": False},
    "s2": {"data_type": "text", "nullable": True},
    **_UTMS,
    **_CLICK_IDS,
}

# Stats reports: created per project, polled until ready (202 with progress, then 200).
STATS_CREATE_PATH = f"{API_PREFIX}/projects/{{project_id}}/stats"
STATS_REPORT_PATH = f"{API_PREFIX}/projects/stats/reports/{{report_id}}"
STATS_POLL_FIRST_S = 0.3  # a small report is often ready by then; a big one is polled less and less often
STATS_POLL_MAX_S = 10.0
STATS_TIMEOUT_S = 600.0
STATS_DIMENSIONS = ("utm_source", "utm_medium", "utm_campaign")
_STATS_FIGURES = {
    "clicks": {"data_type": "bigint", "nullable": False},
    "unique_clicks": {"data_type": "bigint", "nullable": False},
    "cost": {"data_type": "double", "nullable": False},
}
_STATS_WINDOW = {"window_start": {"data_type": "timestamp", "nullable": False}}  # the figures count from it
# Clicks and Auto Cost per project, UTC day and UTM source/medium/campaign.
STATS_DAY_COLUMNS = {
    "row_key": {"data_type": "text", "nullable": False},
    "project_id": {"data_type": "bigint", "nullable": False},
    "date": {"data_type": "date", "nullable": False},
    **{name: {"data_type": "text", "nullable": True} for name in STATS_DIMENSIONS},
    **_STATS_FIGURES,
    **_STATS_WINDOW,
}
# Reach over the whole report window: per project, UTM dimension and value; dimension `all` is the total.
STATS_REACH_COLUMNS = {
    "row_key": {"data_type": "text", "nullable": False},
    "project_id": {"data_type": "bigint", "nullable": False},
    "dimension": {"data_type": "text", "nullable": False},
    "value": {"data_type": "text", "nullable": True},
    **_STATS_FIGURES,
    **_STATS_WINDOW,
}
