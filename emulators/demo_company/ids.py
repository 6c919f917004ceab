"""Salesforce record ids: 3-character key prefix, base-62 counter, and the case-safe checksum suffix.

A 15-character Salesforce id is case-sensitive; the 18-character form appends three characters that
encode, for each 5-character chunk of the 15, which characters are upper-case letters (bit i set when
character i of the chunk is in A-Z), as an index into ``ABCDEFGHIJKLMNOPQRSTUVWXYZ012345``.
"""

from __future__ import annotations

import numpy as np

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_B62 = np.frombuffer(BASE62.encode(), dtype=np.uint8)
_SUFFIX = np.frombuffer(SUFFIX_CHARS.encode(), dtype=np.uint8)
_BITS = np.array([1, 2, 4, 8, 16], dtype=np.int64)


def checksum_suffix(id15: str) -> str:
    """The 3-character suffix that turns a 15-character id into its 18-character form."""
    if len(id15) != 15:
        raise ValueError("a 15-character id is required")
    out = []
    for chunk in range(3):
        flags = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                flags |= 1 << i
        out.append(SUFFIX_CHARS[flags])
    return "".join(out)


def to18(id15: str) -> str:
    return id15 + checksum_suffix(id15)


def salesforce_ids(prefix: str, start: int, count: int) -> list[str]:
    """``count`` 18-character ids with key prefix ``prefix`` for counters ``start, start+1, ...``."""
    if len(prefix) != 3:
        raise ValueError("key prefixes have 3 characters")
    if count <= 0:
        return []
    x = np.arange(start, start + count, dtype=np.int64)
    buf = np.empty((count, 18), dtype=np.uint8)
    buf[:, :3] = np.frombuffer(prefix.encode(), dtype=np.uint8)
    for pos in range(14, 2, -1):
        buf[:, pos] = _B62[x % 62]
        x //= 62
    head = buf[:, :15]
    upper = (head >= 65) & (head <= 90)
    flags = upper.reshape(count, 3, 5).astype(np.int64) @ _BITS
    buf[:, 15:] = _SUFFIX[flags]
    return buf.view("S18").ravel().astype("U18").tolist()
