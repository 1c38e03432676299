"""The `TESSERA` settings dict, loaded once per process and checked at startup.

    TESSERA = {
        "ISSUER": "inventree",          # required: the `iss` of every token
        "KEYS": None,                   # None: derived from SECRET_KEY (+ SECRET_KEY_FALLBACKS);
                                        # or {"file": PATH} | {"env": VAR} | {"json": TEXT}
        "LABEL": None,                  # the derivation label (spec §3.7); default: ISSUER
        "TTL": 300,                     # seconds a minted button stays valid
        "LEEWAY": 30,                   # clock skew allowed at verification (0..=300)
        "MAX_LIFETIME": 86400,          # longest exp - iat accepted
        "BODY_LIMIT": 65536,            # largest action request body, in bytes
        "REPLAY_CACHE": None,           # cache alias of single-use actions' replay guard
        "TRUSTED_ORIGINS": [],          # other origins whose pages may post actions (§11.13)
        "SUBJECT": None,                # callable(user) -> principal; default "user:<pk>"
    }

A replay cache must be shared by every worker process: a per-process cache (LocMemCache,
DummyCache) is refused at startup with ImproperlyConfigured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Optional

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from .. import KeySet, TesseraError

#: Cache backends that keep entries per process (or not at all): never a replay guard.
PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
KNOWN = {
    "ISSUER", "KEYS", "LABEL", "TTL", "LEEWAY", "MAX_LIFETIME", "BODY_LIMIT",
    "REPLAY_CACHE", "TRUSTED_ORIGINS", "SUBJECT",
}  # fmt: skip


def default_subject(user: Any) -> str:
    """The principal of a signed-in user: `user:<primary key>`."""
    return f"user:{user.pk}"


@dataclass(frozen=True)
class Config:
    """The checked settings of this process."""

    issuer: str
    keys: KeySet
    ttl: int
    leeway: int
    max_lifetime: int
    body_limit: int
    replay_cache: Optional[str]
    trusted_origins: Sequence[str]
    subject: Callable[[Any], str]


_loaded: Optional[Config] = None


def _int(raw: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = raw.get(name, default)
    if type(value) is not int or not low <= value <= high:
        raise ImproperlyConfigured(f"TESSERA[{name!r}] must be an integer in {low}..={high}")
    return value


def _keys(raw: dict[str, Any], issuer: str) -> KeySet:
    source = raw.get("KEYS")
    try:
        if isinstance(source, KeySet):
            return source
        if source is None:
            label = raw.get("LABEL") or issuer
            fallbacks = list(getattr(settings, "SECRET_KEY_FALLBACKS", []))
            return KeySet.derive(settings.SECRET_KEY, label, fallbacks)
        if isinstance(source, dict) and len(source) == 1:
            ((kind, value),) = source.items()
            if kind == "file":
                return KeySet.from_file(value)
            if kind == "env":
                return KeySet.from_env(value)
            if kind == "json":
                return KeySet.from_json(value)
    except TesseraError as e:
        # The protocol's messages name files and variables, never key material.
        raise ImproperlyConfigured(f"TESSERA['KEYS']: {e}") from None
    raise ImproperlyConfigured(
        "TESSERA['KEYS'] is None (keys derived from SECRET_KEY), a KeySet, or one of "
        '{"file": PATH}, {"env": VAR}, {"json": TEXT}'
    )


def _replay_cache(alias: Any) -> Optional[str]:
    if alias is None:
        return None
    caches = getattr(settings, "CACHES", {})
    if not isinstance(alias, str) or alias not in caches:
        raise ImproperlyConfigured(f"TESSERA['REPLAY_CACHE'] {alias!r} is not a cache of CACHES")
    backend = caches[alias].get("BACKEND", "")
    if backend in PER_PROCESS_CACHES:
        raise ImproperlyConfigured(
            f"TESSERA['REPLAY_CACHE'] {alias!r} uses {backend.rsplit('.', 1)[-1]}, which keeps "
            "entries per process (or none): each worker would let a single-use token run "
            "once more. Use a cache shared by every worker, e.g. Django's RedisCache "
            "(django.core.cache.backends.redis.RedisCache)."
        )
    return alias


def load() -> Config:
    """Reads and checks `settings.TESSERA`; ImproperlyConfigured names what is wrong."""
    raw = getattr(settings, "TESSERA", None)
    if not isinstance(raw, dict):
        raise ImproperlyConfigured("settings.TESSERA must be a dict (at least {'ISSUER': ...})")
    unknown = set(raw) - KNOWN
    if unknown:
        raise ImproperlyConfigured(f"TESSERA has unknown settings: {', '.join(sorted(unknown))}")
    issuer = raw.get("ISSUER")
    if not isinstance(issuer, str) or not issuer:
        raise ImproperlyConfigured("TESSERA['ISSUER'] must be a non-empty string")
    origins = raw.get("TRUSTED_ORIGINS", [])
    if isinstance(origins, str) or not all(isinstance(o, str) for o in origins):
        raise ImproperlyConfigured("TESSERA['TRUSTED_ORIGINS'] is a list of origins")
    subject = raw.get("SUBJECT") or default_subject
    if not callable(subject):
        raise ImproperlyConfigured("TESSERA['SUBJECT'] is a callable(user) -> str")
    return Config(
        issuer=issuer,
        keys=_keys(raw, issuer),
        ttl=_int(raw, "TTL", 300, 1, 86400),
        leeway=_int(raw, "LEEWAY", 30, 0, 300),
        max_lifetime=_int(raw, "MAX_LIFETIME", 86400, 1, 10 * 365 * 86400),
        body_limit=_int(raw, "BODY_LIMIT", 65536, 1, 2**31),
        replay_cache=_replay_cache(raw.get("REPLAY_CACHE")),
        trusted_origins=tuple(origins),
        subject=subject,
    )


def config() -> Config:
    """The process's configuration, loaded on first use (and at startup by the app)."""
    global _loaded
    if _loaded is None:
        _loaded = load()
    return _loaded


def _reset(*, setting: str, **kwargs: Any) -> None:
    global _loaded
    if setting in ("TESSERA", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "CACHES"):
        _loaded = None


setting_changed.connect(_reset)
