"""Integr8 endpoints, limits, defaults and the typed schema of every report and export, as data."""

from dataclasses import dataclass

import pyarrow as pa

VENDOR = "Integr8"
ADVERTISERS_PATH = "/api/v2/advertisers"
OFFERS_PATH = "/api/v2/offers/{integration_id}"
PUBLISHERS_PATH = "/api/v2/publishers"
REPORT_PATH = "/api/v2/reports/v2/{report}"
EXPORT_PATH = "/api/v2/download-center/{export}-export/{integration_id}"
EXPORT_STATUS_PATH = "/api/v2/downloadcenter-exports/{export_id}"
ARTIFACT_URL_PATH = "/downloadcenter-artifact-url"

MAX_PAGE_SIZE = 100
REPORT_MAX_DAYS = 31  # wider report windows fail (402)
DEFAULT_WINDOW_HOURS = 24
# How far before the high-water mark each table is re-read: the longest a record can still change after its
# cursor time (its restatement window), plus two days for a high-water mark lagging the vendor's clock.
SLACK_HOURS = 48
REFUND_WINDOW_HOURS = 14 * 24  # a conversion's third_party_status turns `refunded` up to 14 days later
SETTLE_HOURS = 48  # clicks, impressions and postback logs are not restated; two more days for late reports
DEFAULT_EXPORT_THRESHOLD_HOURS = 7 * 24  # ranges longer than this go through the Download Center
# Event tables are appended (a log of versions), never merged: an export is copied into the warehouse once.
EVENT_WRITE_DISPOSITION = "append"
EXPORT_CHUNK_DAYS = 92  # one export per quarter and integration; Integr8 documents no maximum
EXPORT_POLL_FIRST_S = 0.2
EXPORT_POLL_MAX_S = 10.0
EXPORT_TIMEOUT_S = 1800.0
EXPORT_ATTEMPTS = 3  # an export that ends in ERROR is recreated this many times in all
URL_ATTEMPTS = 3  # an expired signed URL is requested again this many times in all
DOWNLOAD_ATTEMPTS = 2  # an archive that arrives damaged is downloaded once more
MAX_EXPORT_MB = 4096  # one export's CSV uncompressed (a quarter of one integration's table); past it: a clear error
MAX_EXPORT_ROWS = 30_000_000  # one export's rows
# An export goes on in tables of this many rows, so memory stays flat whatever its size: two of DuckDB's row groups
# (122,880 rows), as Parquet row groups of another size load ~1.7x slower (measured: 1M clicks, 4.2 s vs 2.4 s).
EXPORT_BATCH_ROWS = 2 * 122_880
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

TEXT, FLOAT, INT, BOOL, WALL_TIME = pa.string(), pa.float64(), pa.int64(), pa.bool_(), "wall_time"
_TRAFFIC = {
    "integration_id": TEXT,
    "advertiser": TEXT,
    "advertiser_id": TEXT,
    "offer": TEXT,
    "offer_id": TEXT,
    "publisher": TEXT,
    "publisher_id": TEXT,
}
# Field -> Arrow type; WALL_TIME marks wall-clock times in the request time zone, stored as UTC timestamps.
FIELDS: dict[str, dict[str, object]] = {
    "clicks": {
        "real_tx_id": TEXT,
        "tx_id": TEXT,
        **_TRAFFIC,
        "sub_id": TEXT,
        "click_time": WALL_TIME,
        "referer": TEXT,
        "click_ip": TEXT,
        "user_agent": TEXT,
        "device_id": TEXT,
        "country": TEXT,
        "is_bot": BOOL,
        "proxy_type": TEXT,
        "revenue": FLOAT,
        "payout": FLOAT,
        "status": TEXT,
        "rejection_reason": TEXT,
        "gclid": TEXT,
        "msclkid": TEXT,
        "fbclid": TEXT,
        "ttclid": TEXT,
    },
    "conversions": {
        "real_tx_id": TEXT,
        "tx_id": TEXT,
        "click_tx_id": TEXT,
        **_TRAFFIC,
        "goal": TEXT,
        "click_time": WALL_TIME,
        "conversion_time": WALL_TIME,
        "conversion_ip": TEXT,
        "user_agent": TEXT,
        "device_id": TEXT,
        "country": TEXT,
        "external_transaction_id": TEXT,
        "third_party_status": TEXT,
        "purchase_value": FLOAT,
        "revenue": FLOAT,
        "payout": FLOAT,
        "currency": TEXT,
        "status": TEXT,
        "rejection_reason": TEXT,
        "session_time": INT,
    },
    "impressions": {
        "real_tx_id": TEXT,
        "tx_id": TEXT,
        **_TRAFFIC,
        "request_time": WALL_TIME,
        "ip": TEXT,
        "user_agent": TEXT,
        "device_id": TEXT,
        "country": TEXT,
    },
    "postback_logs": {
        "id": TEXT,
        "conversion_tx_id": TEXT,
        **_TRAFFIC,
        "url": TEXT,
        "http_status": INT,
        "attempt": INT,
        "sent_at": WALL_TIME,
        "response_time_ms": INT,
    },
}


@dataclass(frozen=True)
class Table:
    """How one event table is read: its Reports API table (None: exports only), its Download Center
    export, its primary key, its cursor field, and how long after its cursor time a record can change."""

    report: str | None
    export: str
    primary_key: str
    cursor: str
    restates_hours: int

    @property
    def lookback_hours(self) -> int:
        return self.restates_hours + SLACK_HOURS


TABLES = {
    "clicks": Table("click-table", "clicks", "real_tx_id", "click_time", SETTLE_HOURS),
    "conversions": Table("conversion-table", "conversions", "real_tx_id", "conversion_time", REFUND_WINDOW_HOURS),
    "impressions": Table("impression-table", "impressions", "real_tx_id", "request_time", SETTLE_HOURS),
    "postback_logs": Table(None, "postbacks", "id", "sent_at", SETTLE_HOURS),
}
