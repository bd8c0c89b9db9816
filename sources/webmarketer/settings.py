"""Webmarketer endpoints, limits and defaults, as data."""

from sources.common.contract import AMOUNT

VENDOR = "Webmarketer"
TOKEN_PATH = "/oauth/token"
PROJECTS_PATH = "/api/v1/agents/me/projects"
EVENT_TYPES_PATH = "/api/v1/projects/{project}/event-types"
EVENTS_PATH = "/api/v1/projects/{project}/events"
TRASHED_EVENTS_PATH = "/api/v1/projects/{project}/trashed-events"
INTEGRATIONS_PATH = "/api/v1/projects/{project}/integrations"
CAMPAIGNS_PATH = "/api/v1/projects/{project}/integrations/{integration}/campaigns"
OUTLAYS_PATH = "/api/v1/projects/{project}/integrations/{integration}/campaigns/{campaign}/outlays"

PAGE_SIZE = 100
TOKEN_REFRESH_MARGIN_S = 60.0  # refresh this long before expiry (or at 10% of the lifetime, if shorter)
DEFAULT_LOOKBACK_HOURS = 1  # events and outlays are read by update time; an hour of slack for clock skew
STATE_METRICS = ("paid", "refund", "qualified")

EVENT_COLUMNS = {
    "id": {"data_type": "text", "nullable": False},
    "project_id": {"data_type": "text"},
    "user_id": {"data_type": "text"},
    "tracker_id": {"data_type": "text"},
    "event_type": {"data_type": "text"},
    "event_date": {"data_type": "timestamp"},
    "order_ref": {"data_type": "text", "nullable": True},
    "email": {"data_type": "text", "nullable": True},
    "external_id": {"data_type": "text", "nullable": True},
    "turnover": {"data_type": "double", "nullable": True, AMOUNT: True},
    "turnover_currency": {"data_type": "text", "nullable": True},
    "paid_at": {"data_type": "timestamp", "nullable": True},
    "refund_at": {"data_type": "timestamp", "nullable": True},
    "qualified_at": {"data_type": "timestamp", "nullable": True},
    "created_at": {"data_type": "timestamp"},
    "updated_at": {"data_type": "timestamp", "nullable": False},
}
METRIC_COLUMNS = {
    "key": {"data_type": "text"},
    "type": {"data_type": "text"},
    "value": {"data_type": "double", "nullable": True},
    "currency": {"data_type": "text", "nullable": True},
    "date": {"data_type": "timestamp", "nullable": True},
}
TRASH_ERROR_COLUMNS = {
    "error_type": {"data_type": "text"},
    "field_storage_key": {"data_type": "text", "nullable": True},
    "field_entity": {"data_type": "text", "nullable": True},
    "field_type": {"data_type": "text", "nullable": True},
    "field_ingestion_key": {"data_type": "text", "nullable": True},
    "field_is_pii": {"data_type": "bool", "nullable": True},
    "value": {"data_type": "text", "nullable": True},
}
TRASHED_EVENT_COLUMNS = {
    "id": {"data_type": "text", "nullable": False},
    "project_id": {"data_type": "text"},
    "event_type_id": {"data_type": "text", "nullable": True},
    "event_type_ref": {"data_type": "text", "nullable": True},
    "processing_date": {"data_type": "timestamp", "nullable": False},
    "raw_event_date": {"data_type": "timestamp", "nullable": True},
}
OUTLAY_COLUMNS = {
    "id": {"data_type": "text", "nullable": False},
    "project_id": {"data_type": "text"},
    "integration_id": {"data_type": "text"},
    "campaign_id": {"data_type": "text"},
    "amount": {"data_type": "double", AMOUNT: True},
    "currency": {"data_type": "text"},
    "start_date": {"data_type": "timestamp"},
    "end_date": {"data_type": "timestamp"},
    "country": {"data_type": "text", "nullable": True},
    "region": {"data_type": "text", "nullable": True},
    "deleted_at": {"data_type": "timestamp", "nullable": True},
    "created_at": {"data_type": "timestamp"},
    "updated_at": {"data_type": "timestamp", "nullable": False},
}
