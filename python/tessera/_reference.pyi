"""Types of the reference implementation (the pure backend's core), as the package uses it."""

from dataclasses import dataclass
from typing import Any, Callable, Optional, Union

TYP: str
MAX_TIME: int
CLAIM_ORDER: tuple[str, ...]
MAX_KEYS: int
MAX_KEY_SET_BYTES: int
MAX_CLAIMS_DEPTH: int
_ed25519: Any
_AESGCM: Any

class TesseraError(Exception):
    code: str
    message: str
    def __init__(self, code: str, message: str) -> None: ...

class CryptoUnavailable(RuntimeError): ...
class EdDSAUnavailable(CryptoUnavailable): ...
class SealingUnavailable(CryptoUnavailable): ...

@dataclass(frozen=True)
class Key:
    kid: str
    alg: str
    secret: Optional[bytes] = ...
    x: Optional[bytes] = ...
    d: Optional[bytes] = ...
    @property
    def can_sign(self) -> bool: ...
    @property
    def can_seal(self) -> bool: ...

@dataclass(frozen=True)
class KeySet:
    keys: dict[str, Key]
    active: Optional[str] = ...
    active_sealing: Optional[str] = ...

def unavailable_features() -> list[str]: ...
def b64e(data: bytes) -> str: ...
def b64d(text: str) -> bytes: ...
def parse_json(data: bytes) -> Any: ...
def _compact(value: Any) -> str: ...
def _need_ed25519() -> None: ...
def _ed_public(seed: bytes) -> bytes: ...
def load_key_set(src: Union[str, bytes, dict[str, Any]]) -> KeySet: ...
def public_jwks(key_set: KeySet) -> dict[str, Any]: ...
def load_public_jwks(src: Union[str, bytes, dict[str, Any]]) -> KeySet: ...
def mint(
    key_set: KeySet,
    iss: str,
    aud: str,
    dat: Any,
    now: int,
    ttl: int = ...,
    sub: Optional[str] = ...,
    jti: Optional[str] = ...,
    nbf: Optional[int] = ...,
    fpr: Optional[str] = ...,
    max_len: int = ...,
    max_lifetime: int = ...,
    sealed: bool = ...,
) -> str: ...
def verify(
    token: Union[str, bytes],
    key_set: KeySet,
    now: int,
    iss: str,
    aud: str,
    sub: Optional[str] = ...,
    max_len: int = ...,
    leeway: int = ...,
    max_lifetime: int = ...,
    payload_check: Optional[Callable[[Any], Any]] = ...,
    accept: str = ...,
    anonymous: bool = ...,
) -> dict[str, Any]: ...
