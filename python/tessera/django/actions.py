"""Action requests (spec §8) for Django views: the checks of the Rust extractor
(`server/src/action.rs`), in its order, with its codes and statuses.

Order: POST only (405) → cross-origin (`cross_origin`) → the `Tessera-Token` header at most
once and visible ASCII (`malformed`) → `Content-Length` (`malformed`, `too_large`) → the
body's size (`too_large`) → media type and syntax (`unsupported_media_type`, `malformed`)
→ exactly one token (`missing_token`, `malformed`) → verification (§5, the token codes) →
the payload type (`bad_payload`) → the input (`bad_input`) → the replay guard of a
single-use action (`replayed`, `replay_unavailable`). CSRF is Django's, and stays on.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional
from urllib.parse import unquote_to_bytes

from django.core.cache import caches
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest

from .. import Claims, TesseraError, mint, verify
from .conf import Config, config
from .problems import Refusal, logger

#: The request header that may carry the token (spec §8.1).
TOKEN_HEADER = "Tessera-Token"
#: The form field that may carry the token (spec §8.1).
TOKEN_FIELD = "tessera_token"
#: How much longer than `exp` + leeway a single-use record is kept (as the Rust server).
REPLAY_RECORD_MARGIN = 60


@dataclass(frozen=True)
class ActionRoute:
    """A view's action: its id (the tokens' `aud`), the kinds of token it accepts, whether
    it is single-use (§10.1), and the payload and input types: callables that take the
    JSON value and return the typed value, raising ValueError, TypeError or KeyError (or
    returning False) when it does not fit."""

    id: str
    accept: str = "signed"
    single_use: bool = False
    payload: Optional[Callable[[Any], Any]] = None
    input: Optional[Callable[[Any], Any]] = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("an action id is not empty")
        if self.accept not in ("signed", "sealed", "either"):
            raise ValueError("accept is 'signed', 'sealed' or 'either'")


@dataclass(repr=False)
class Action:
    """A verified action request, as the view receives it: the issuer-vouched `payload`
    (the token's `dat`, typed), the user's untrusted `input`, the `claims` and the caller."""

    payload: Any
    input: Any
    claims: Claims
    principal: Optional[str]
    route: ActionRoute
    replay_key: Optional[str] = field(default=None, repr=False)

    def __repr__(self) -> str:
        # A sealed token's payload is secret from the person holding the button: kept out of
        # a repr that may be logged, on every route that can take sealed tokens.
        shown = repr(self.payload) if self.route.accept == "signed" else "<hidden>"
        return (
            f"Action(route={self.route.id!r}, principal={self.principal!r}, payload={shown}, "
            f"input={self.input!r})"
        )

    def require_fingerprint(self, current: str) -> None:
        """Stale-state detection (§10.2): raises `stale` (409) unless the token's `fpr`
        equals `current`, the fingerprint of the state as it is now."""
        if self.claims.fpr != current:
            raise Refusal("stale", "the state changed since the button was rendered")


def principal_of(request: HttpRequest, cfg: Optional[Config] = None) -> Optional[str]:
    """The caller as a principal (`sub`): the signed-in user, or None when anonymous."""
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    principal: str = (cfg or config()).subject(user)
    return principal


def mint_for(
    request: HttpRequest,
    action: str,
    dat: Any = None,
    *,
    fpr: Optional[str] = None,
    ttl: Optional[int] = None,
    sealed: bool = False,
) -> str:
    """A button's token for `action` and the current request's user (`sub`; anonymous when
    nobody is signed in), valid `ttl` seconds (default `TESSERA['TTL']`)."""
    return _mint_for(request, action, dat, fpr, ttl, sealed, None)


def _mint_for(
    request: HttpRequest,
    action: str,
    dat: Any,
    fpr: Optional[str],
    ttl: Optional[int],
    sealed: bool,
    now: Optional[int],
) -> str:
    cfg = config()
    return mint(
        cfg.keys,
        iss=cfg.issuer,
        aud=action,
        dat=dat,
        sub=principal_of(request, cfg),
        ttl=cfg.ttl if ttl is None else ttl,
        fpr=fpr,
        sealed=sealed,
        now=now,
        max_lifetime=cfg.max_lifetime,
    )


def button_for(
    request: HttpRequest,
    route: ActionRoute,
    url: str,
    dat: Any = None,
    *,
    fpr: Optional[str] = None,
    ttl: Optional[int] = None,
) -> dict[str, Any]:
    """A panel button for `route` (a view decorated with `action` carries its route as
    `view.tessera_route`), in the shape of spec §8.5: `action`, `url`, `method`, `token` and
    `expires_at` (the token's `exp`). The token is sealed when the route accepts only sealed
    tokens, signed otherwise (spec §8.2)."""
    now = int(time.time())
    lifetime = config().ttl if ttl is None else ttl
    token = _mint_for(request, route.id, dat, fpr, lifetime, route.accept == "sealed", now)
    return {
        "action": route.id,
        "url": url,
        "method": "POST",
        "token": token,
        "expires_at": now + lifetime,
    }


def _check_origin(request: HttpRequest, cfg: Config) -> None:
    origin = request.META.get("HTTP_ORIGIN")
    site = request.META.get("HTTP_SEC_FETCH_SITE")
    trusted = origin is not None and origin in cfg.trusted_origins
    if site is not None:
        if site in ("same-origin", "none") or trusted:
            return
        raise Refusal("cross_origin", "the browser sent this request from a page of another site")
    if origin is None:
        return
    # The request's own host: its Host header, else the server's name and port.
    host = request.META.get("HTTP_HOST")
    if host is None:
        try:
            host = request.get_host()
        except DisallowedHost:
            host = None
    parts = origin.split("/")
    own = host is not None and len(parts) > 2 and parts[2] == host and origin.startswith("http")
    if not (own or trusted):
        raise Refusal("cross_origin", "the request's Origin is not this host's")


def _header_token(request: HttpRequest) -> Optional[str]:
    value: Optional[str] = request.META.get("HTTP_" + TOKEN_HEADER.upper().replace("-", "_"))
    if value is None:
        return None
    # A WSGI server joins a repeated header with ","; a token never holds one.
    if "," in value:
        raise Refusal("malformed", "the Tessera-Token header appears more than once")
    if not value or not all(0x21 <= ord(c) <= 0x7E for c in value):
        raise Refusal("malformed", "the Tessera-Token header is not visible ASCII")
    return value


def _body(request: HttpRequest, cfg: Config) -> bytes:
    length = request.META.get("CONTENT_LENGTH")
    if length not in (None, ""):
        text = str(length).strip()
        if not text.isdigit():
            raise Refusal("malformed", "the Content-Length header is not a number")
        if int(text) > cfg.body_limit:
            raise Refusal("too_large", f"the request body is larger than {cfg.body_limit} bytes")
    body = request.body
    if len(body) > cfg.body_limit:
        raise Refusal("too_large", f"the request body is larger than {cfg.body_limit} bytes")
    return body


class _Repeated(dict):  # type: ignore[type-arg]
    """An object that repeated a member name (JSON rule 3), kept to be refused later."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    return _Repeated(out) if len(out) != len(pairs) else out


def _not_json(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


_NO_INPUT = object()
#: JSON rule 4: a number that rounds to an infinite binary64 is refused, integers too.
_LARGEST_DOUBLE = 2**1024 - 2**970


def _envelope(request: HttpRequest, body: bytes) -> tuple[Optional[str], Any]:
    """The token and the raw input of a body (`_NO_INPUT` when it has none)."""
    if not body:
        return None, _NO_INPUT
    essence = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if "," in essence:  # a WSGI server joins a repeated header with ","
        raise Refusal("malformed", "the body is sent with more than one Content-Type")
    is_json = essence == "application/json" or (
        essence.startswith("application/") and essence.endswith("+json")
    )
    if is_json:
        not_the_object = Refusal(
            "malformed", 'the JSON body is not an object of "token" (a string) and "input"'
        )
        try:
            doc = json.loads(body.decode("utf-8"), object_pairs_hook=_pairs,
                             parse_constant=_not_json)  # fmt: skip
        except (ValueError, RecursionError):
            raise not_the_object from None
        if (not isinstance(doc, dict) or isinstance(doc, _Repeated)
                or set(doc) - {"token", "input"}
                or not isinstance(doc.get("token"), (str, type(None)))):  # fmt: skip
            raise not_the_object
        raw_input = doc.get("input")
        return doc.get("token"), _NO_INPUT if raw_input is None else raw_input
    if essence == "application/x-www-form-urlencoded":
        fields = _form_fields(body)
        tokens = [v for k, v in fields if k == TOKEN_FIELD]
        if len(tokens) > 1:
            raise Refusal("malformed", "the form field tessera_token appears more than once")
        if tokens and tokens[0] is None:
            raise Refusal("malformed", "the form field tessera_token is not UTF-8")
        rest = [(k, v) for k, v in fields if k != TOKEN_FIELD]
        return (tokens[0] if tokens else None), (rest if rest else _NO_INPUT)
    raise Refusal("unsupported_media_type", "the body is neither JSON nor a urlencoded form")


def _decoded(raw: bytes) -> Optional[str]:
    """A form name or value, percent-decoded; None when it is not UTF-8 (never read with
    U+FFFD in place of the bytes, spec §8.1)."""
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _form_fields(body: bytes) -> list[tuple[Optional[str], Optional[str]]]:
    """The fields of a urlencoded body, in order; an undecodable name or value is None."""
    fields = []
    for part in body.split(b"&"):
        if part:
            name, _, value = part.partition(b"=")
            fields.append((_decoded(name), _decoded(value)))
    return fields


def _check_json_rules(value: Any) -> None:
    """JSON rules 2 to 4 (§2.4) inside the input: repeated names, numbers out of range,
    lone surrogates (a proxy and the handler must not read different values)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, _Repeated):
            raise Refusal("bad_input", "the input repeats a member name in one object")
        if (isinstance(item, float) and not math.isfinite(item)) or (
            type(item) is int and abs(item) > _LARGEST_DOUBLE
        ):
            raise Refusal("bad_input", "the input has a number out of range")
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise Refusal("bad_input", "the input has an unpaired surrogate") from None
        if isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)


def _typed(check: Optional[Callable[[Any], Any]], value: Any, code: str, what: str) -> Any:
    if check is None:
        return value
    try:
        typed = check(value)
    except (ValueError, TypeError, KeyError):
        typed = False
    if typed is False:
        raise Refusal(code, f"the {what} does not fit the action's {what} type")
    return typed


def _input(route: ActionRoute, raw: Any) -> Any:
    if raw is _NO_INPUT:
        value: Any = None
    elif isinstance(raw, list):  # form fields
        if any(k is None or v is None for k, v in raw):
            raise Refusal("bad_input", "a form field is not UTF-8 once percent-decoded")
        names = [k for k, _ in raw]
        if len(set(names)) != len(names):
            raise Refusal("bad_input", "the form repeats a field name")
        value = dict(raw)
    else:
        _check_json_rules(raw)
        value = raw
    return _typed(route.input, value, "bad_input", "input")


def replay_key(claims: Claims) -> str:
    """The cache key of a token's use: its issuer and action (length-prefixed) and jti,
    hashed so that any cache accepts it."""
    scope = f"{claims.iss}|{claims.aud}"
    digest = hashlib.sha256(f"{len(scope)}:{scope}:{claims.jti}".encode()).hexdigest()
    return f"tessera:jti:{digest}"


def _first_use(route: ActionRoute, claims: Claims, cfg: Config) -> str:
    if cfg.replay_cache is None:
        raise Refusal(
            "replay_unavailable", "this action is single-use but no TESSERA['REPLAY_CACHE'] is set"
        )
    key = replay_key(claims)
    # Kept until the token can no longer verify (exp + leeway) plus a margin, measured on
    # this server's clock (a relative timeout: the store's clock need not agree).
    timeout = max(1, claims.exp + cfg.leeway + REPLAY_RECORD_MARGIN - int(time.time()))
    try:
        first = caches[cfg.replay_cache].add(key, 1, timeout=timeout)
    except Exception as e:  # the store is unreachable or failed: fail closed, never run unguarded
        # The cause goes to the log (as the Rust server's reason=...), the client gets a
        # generic detail.
        logger.warning("tessera replay guard failed (action %s): %s: %s", route.id,
                       type(e).__name__, e)  # fmt: skip
        raise Refusal("replay_unavailable", "the replay guard could not record the use") from None
    if not first:
        raise Refusal("replayed", "this button was already used")
    return key


def release(action: Action, cfg: Optional[Config] = None) -> None:
    """Forgets a single-use action's record after the view refused the request (a 4xx: the
    action did not run), so the button can be used again (spec §10.1 point 3). `cfg`: the
    configuration the action was received with (default: the process's `TESSERA`)."""
    if action.replay_key is not None:
        try:
            caches[(cfg or config()).replay_cache or "default"].delete(action.replay_key)
        except Exception:  # the record then stays: the token is used up, which is safe
            pass


def receive(request: HttpRequest, route: ActionRoute, cfg: Optional[Config] = None) -> Action:
    """Checks an action request for `route` (spec §8) and returns the verified `Action`,
    or raises `Refusal` with the code and status of the first check that fails. `cfg`: a
    configuration of its own (e.g. an InvenTree plugin's keys); default: `TESSERA`."""
    if request.method != "POST":
        raise Refusal("method_not_allowed", "this action URL accepts POST only")
    cfg = cfg or config()
    _check_origin(request, cfg)
    header = _header_token(request)
    body = _body(request, cfg)
    principal = principal_of(request, cfg)
    body_token, raw_input = _envelope(request, body)
    if header is not None and body_token is not None:
        raise Refusal("malformed", "the token was sent twice (header and body); send it once")
    token = header if header is not None else body_token
    if token is None:
        raise Refusal("missing_token", "the request carries no token")
    try:
        claims = verify(
            token,
            cfg.keys,
            iss=cfg.issuer,
            aud=route.id,
            sub=principal,
            anonymous=principal is None,
            accept=route.accept,
            leeway=cfg.leeway,
            max_lifetime=cfg.max_lifetime,
        )
    except TesseraError as e:
        raise Refusal(e.code, e.message) from None
    payload = _typed(route.payload, claims.dat, "bad_payload", "payload")
    value = _input(route, raw_input)
    key = _first_use(route, claims, cfg) if route.single_use else None
    return Action(payload, value, claims, principal, route, key)
