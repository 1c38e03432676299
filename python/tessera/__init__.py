"""tessera: signed, expiring action tokens for plugin buttons (spec/PROTOCOL.md).

Two backends with one API: the compiled one (`tessera._native`, the Rust core that the axum
integration and the `tessera` CLI use) and a pure-Python one (`tessera._pure`, over the
spec's reference implementation). `BACKEND` says which is in use; the environment variable
`TESSERA_BACKEND=pure` forces the pure one (`=native` requires the compiled one).

    >>> import tessera
    >>> keys = tessera.KeySet.generate("HS256")
    >>> token = tessera.mint(keys, iss="inventree", aud="plugin:demo/action:go", dat={"n": 1})
    >>> tessera.verify(token, keys, iss="inventree", aud="plugin:demo/action:go").dat
    {'n': 1}
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Optional

from ._errors import STATUS, TesseraError
from ._inspect import Inspected, inspect

__all__ = [
    "BACKEND",
    "KEYS_ENV",
    "STATUS",
    "Claims",
    "Inspected",
    "KeySet",
    "TesseraError",
    "inspect",
    "mint",
    "verify",
]

#: The environment variable `KeySet.from_env()` reads by default.
KEYS_ENV = "TESSERA_KEYS"

_FORCED = os.environ.get("TESSERA_BACKEND", "")
if _FORCED not in ("", "native", "pure"):
    raise ImportError("TESSERA_BACKEND is 'native', 'pure' or unset")

if TYPE_CHECKING:
    from ._native import Claims, KeySet
    from ._native import mint as _mint_backend
    from ._native import verify as verify
elif _FORCED == "pure":
    from ._pure import Claims, KeySet
    from ._pure import mint as _mint_backend
    from ._pure import verify as verify
else:
    try:
        from ._native import Claims, KeySet
        from ._native import mint as _mint_backend
        from ._native import verify as verify
    except ImportError:
        if _FORCED == "native":
            raise
        from ._pure import Claims, KeySet
        from ._pure import mint as _mint_backend
        from ._pure import verify as verify

#: "native" (the compiled Rust core) or "pure" (pure Python).
BACKEND: str = "native" if KeySet.__module__ == "tessera._native" else "pure"


def _payload_json(dat: Any) -> Optional[str]:
    """`dat` as compact JSON text for the compiled minter, or None when JSON cannot hold it
    (NaN, a set, ...): the minter then refuses it with `bad_payload` at its step of spec §4,
    after the checks that come before it."""
    from . import _reference

    try:
        text: str = _reference._compact(dat)
    except (ValueError, TypeError, RecursionError):
        return None
    return text


def mint(
    keys: KeySet,
    *,
    iss: str,
    aud: str,
    dat: Any = None,
    sub: Optional[str] = None,
    ttl: int = 300,
    nbf: Optional[int] = None,
    fpr: Optional[str] = None,
    sealed: bool = False,
    now: Optional[int] = None,
    max_lifetime: int = 86400,
    max_len: int = 8192,
) -> str:
    """A token for the action `aud`, signed with the active key (or, with `sealed=True`,
    sealed with the active sealing key), valid `ttl` seconds from `now` (default: the clock).

    `dat` is any JSON value (dict, list, str, int, float, bool, None); `sub` the principal
    it is for; `fpr` a fingerprint of the state it was rendered from (spec §10.2); `nbf` a
    not-before time. Raises `TesseraError` (`invalid_key`, `invalid_config`,
    `lifetime_too_long`, `bad_payload`, `too_large`).
    """
    payload: Any = dat if BACKEND == "pure" else _payload_json(dat)
    return _mint_backend(
        keys,
        payload,
        iss=iss,
        aud=aud,
        sub=sub,
        ttl=ttl,
        nbf=nbf,
        fpr=fpr,
        sealed=sealed,
        now=now,
        max_lifetime=max_lifetime,
        max_len=max_len,
    )
