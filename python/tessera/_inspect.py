"""Reading a token WITHOUT verifying it: for display and debugging only (spec §9.7)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from . import _reference as ref
from ._errors import TesseraError


@dataclass(frozen=True)
class Inspected:
    """A token's header and claims, decoded but NOT verified: nothing here may be trusted.
    `claims` is None for a sealed token, whose claims are encrypted."""

    kind: str
    header: dict[str, Any]
    claims: Optional[dict[str, Any]]

    def __repr__(self) -> str:
        return f"Inspected(kind={self.kind!r}, header={self.header!r}, claims=...)"


def inspect(token: str) -> Inspected:
    """The header and (signed tokens only) the claims of `token`, unverified. The length cap
    (8192 bytes) and the shape checks still apply: `too_large`, `malformed`.

    >>> inspect("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln").claims
    {'sub': 'x'}
    """
    raw = token.encode("utf-8", "surrogatepass")
    if len(raw) > 8192:
        raise TesseraError("too_large", f"token is {len(raw)} bytes long; the limit is 8192")
    segments = token.split(".")
    if len(segments) not in (3, 5):
        raise TesseraError("malformed", "a token has three or five segments")

    def decode(segment: str) -> dict[str, Any]:
        try:
            value = ref.parse_json(ref.b64d(segment))
        except (ValueError, RecursionError):
            raise TesseraError("malformed", "a token segment is not base64url JSON") from None
        if not isinstance(value, dict):
            raise TesseraError("malformed", "a token segment is not a JSON object")
        return value

    header = decode(segments[0])
    if len(segments) == 5:
        return Inspected("sealed", header, None)
    return Inspected("signed", header, decode(segments[1]))
