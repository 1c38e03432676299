"""The package's one exception type and the spec's table of codes and HTTP statuses (§6)."""

from __future__ import annotations

from . import _reference

#: Every stable code of spec §6 with its HTTP status: the token codes (§6.1), then those of
#: the HTTP layer (§6.2).
STATUS: dict[str, int] = {
    "malformed": 400,
    "too_large": 413,
    "unsupported_algorithm": 401,
    "unknown_key": 401,
    "bad_signature": 401,
    "expired": 401,
    "not_yet_valid": 401,
    "lifetime_too_long": 401,
    "wrong_issuer": 403,
    "wrong_audience": 403,
    "wrong_subject": 403,
    "bad_payload": 422,
    "invalid_key": 500,
    "invalid_config": 500,
    "missing_token": 400,
    "unsupported_media_type": 415,
    "bad_input": 422,
    "replayed": 409,
    "replay_unavailable": 503,
    "stale": 409,
    "unbound_action": 500,
    "mint_failed": 500,
    "bad_identity": 400,
    "cross_origin": 403,
}


class TesseraError(_reference.TesseraError):
    """A refusal with a stable `code` (spec §6) and its HTTP `status`.

    The message is for humans and never holds the token, a string taken from it, a sealed
    token's plaintext or key material. Branch on `code`, not on the message.

    >>> e = TesseraError("expired", "token expired")
    >>> (e.code, e.status, str(e))
    ('expired', 401, 'expired: token expired')
    """

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)

    def __reduce__(self) -> tuple[type[TesseraError], tuple[str, str]]:
        # Pickled as (code, message), so it crosses process boundaries (multiprocessing).
        return (type(self), (self.code, self.message))

    @property
    def status(self) -> int:
        """The HTTP status of `code` (500 for a code this version does not know)."""
        return STATUS.get(self.code, 500)
