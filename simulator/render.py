"""Vectorised rendering of ids, timestamps and addresses from integer arrays.

The world keeps only numbers and small code tables; strings are rendered when a page or an
export is served, so a million-row table costs megabytes, not gigabytes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CROCKFORD = np.frombuffer(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", dtype=np.uint8)
HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def ulids(ms: np.ndarray, entropy: np.ndarray) -> np.ndarray:
    """ULID-like ids (`01HVMM5SAS879C0AQZ295VEVN9`): 10 chars of millisecond time, 16 of entropy.

    Lexicographic order equals time order, as Integr8's real_tx_id. Returns an `S26` array.
    """
    ms = ms.astype(np.uint64)
    out = np.empty((len(ms), 26), dtype=np.uint8)
    for i in range(10):
        out[:, 9 - i] = CROCKFORD[(ms >> np.uint64(5 * i)) & np.uint64(31)]
    ent = entropy.astype(np.uint64)
    for i in range(16):
        # 80 bits of entropy are not needed; 64 bits spread over 16 chars (4 bits each) suffice.
        out[:, 25 - i] = CROCKFORD[(ent >> np.uint64(4 * i)) & np.uint64(15)]
    return out.view("S26").ravel()


def hex_ids(values: np.ndarray, width: int = 16) -> np.ndarray:
    """Lower-case hex of uint64 values, zero-padded to `width` (<= 16) chars, as an `S{width}` array."""
    v = values.astype(np.uint64)
    out = np.empty((len(v), width), dtype=np.uint8)
    for i in range(width):
        out[:, width - 1 - i] = HEX[(v >> np.uint64(4 * i)) & np.uint64(15)]
    return out.view(f"S{width}").ravel()


def uuids(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """UUID-shaped strings (8-4-4-4-12) from two uint64 arrays, as an `S36` array."""
    digits = np.concatenate(
        [hex_ids(a).view(np.uint8).reshape(-1, 16), hex_ids(b).view(np.uint8).reshape(-1, 16)], axis=1
    )
    out = np.full((len(a), 36), ord("-"), dtype=np.uint8)
    out[:, 0:8], out[:, 9:13], out[:, 14:18] = digits[:, 0:8], digits[:, 8:12], digits[:, 12:16]
    out[:, 19:23], out[:, 24:36] = digits[:, 16:20], digits[:, 20:32]
    return out.view("S36").ravel()


def ipv4(values: np.ndarray) -> pa.Array:
    """Dotted quads from uint32 values, as an Arrow string array."""
    v = values.astype(np.uint64)
    octets = [pc.cast(pa.array(((v >> np.uint64(s)) & np.uint64(255)).astype(np.int64)), pa.string())
              for s in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")


def timestamps(epoch_s: np.ndarray, tz: str = "UTC") -> pa.Array:
    """Arrow timestamp array (seconds) in time zone `tz`."""
    return pa.array(epoch_s.astype("datetime64[s]"), type=pa.timestamp("s")).cast(
        pa.timestamp("s", tz="UTC")
    ).cast(pa.timestamp("s", tz=tz))


def fmt_local(epoch_s: np.ndarray, tz: str) -> pa.Array:
    """`YYYY-MM-DD HH:MM:SS` wall-clock time in `tz`, with no offset (Integr8)."""
    return pc.strftime(timestamps(epoch_s, tz), format="%Y-%m-%d %H:%M:%S")


def fmt_rfc3339(epoch_s: np.ndarray, tz: str) -> pa.Array:
    """RFC3339 with milliseconds and the zone's offset, `2026-10-01T14:03:22.000+02:00` (Webmarketer)."""
    raw = pc.strftime(timestamps(epoch_s, tz), format="%Y-%m-%dT%H:%M:%S.000%z")
    return pc.replace_substring_regex(raw, pattern=r"([+-]\d\d)(\d\d)$", replacement=r"\1:\2")
