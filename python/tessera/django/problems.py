"""Refusals as RFC 9457 problem responses, with the codes, statuses and titles of spec §6 and
§8.3, exactly as the Rust server (`server/src/rejection.rs`) sends them."""

from __future__ import annotations

import json
import logging
from typing import Optional

from django.http import HttpResponse

from .._errors import STATUS, TesseraError

PROBLEM_JSON = "application/problem+json"
#: The problem `type` is this URI followed by the code.
PROBLEM_TYPE_BASE = "https://tessera.invalid/problems/"

TITLES: dict[str, str] = {
    "too_large": "Request or token too large",
    "malformed": "Malformed token or request",
    "unknown_key": "Unknown signing key",
    "unsupported_algorithm": "Unsupported algorithm",
    "bad_signature": "Bad signature",
    "expired": "Token expired",
    "not_yet_valid": "Token not yet valid",
    "lifetime_too_long": "Token lifetime too long",
    "wrong_issuer": "Wrong issuer",
    "wrong_audience": "Token is for another action",
    "wrong_subject": "Token is for another user",
    "bad_payload": "Token payload does not fit",
    "invalid_key": "Invalid key material",
    "invalid_config": "Invalid configuration",
    "missing_token": "Missing token",
    "unsupported_media_type": "Unsupported media type",
    "bad_input": "Input does not fit",
    "unbound_action": "Route not bound to an action",
    "mint_failed": "Could not mint a token",
    "replayed": "Action already performed with this token",
    "replay_unavailable": "Replay guard unavailable",
    "stale": "State changed since the button was rendered",
    "bad_identity": "Unusable identity",
    "cross_origin": "Cross-origin request refused",
    "method_not_allowed": "Method not allowed",
}

logger = logging.getLogger("tessera.rejection")


class Refusal(TesseraError):
    """A refused action request: a code of spec §6 (or `method_not_allowed`), its status,
    and a detail that never holds the token, the body or key material."""

    @property
    def status(self) -> int:
        return 405 if self.code == "method_not_allowed" else STATUS.get(self.code, 500)


def problem(error: TesseraError, action: Optional[str] = None) -> HttpResponse:
    """The problem response for `error`; logs its code and action (never the detail's
    context, the token or the body)."""
    status = 405 if error.code == "method_not_allowed" else error.status
    logger.info("tessera refused a request: %s (action %s)", error.code, action or "-")
    body = {
        "type": PROBLEM_TYPE_BASE + error.code,
        "title": TITLES.get(error.code, "Internal error"),
        "status": status,
        "detail": error.message,
        "code": error.code,
    }
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_JSON)
    response["Cache-Control"] = "no-store"
    if status == 405:
        response["Allow"] = "POST"
    return response
