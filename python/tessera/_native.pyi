"""Type stubs of the compiled backend (python/src): the same API as tessera._pure."""

import os
from collections.abc import Sequence
from typing import Any, Optional, final

__all__ = ["Claims", "KeySet", "mint", "verify"]

@final
class KeySet:
    """A key set (spec §3.4): signing keys (HS256, EdDSA) and sealing keys (A256GCM) by kid."""

    @staticmethod
    def from_json(text: str) -> KeySet: ...
    @staticmethod
    def from_file(path: str | os.PathLike[str]) -> KeySet: ...
    @staticmethod
    def from_env(var: str = "TESSERA_KEYS") -> KeySet: ...
    @staticmethod
    def from_public_jwks(text: str) -> KeySet: ...
    @staticmethod
    def generate(alg: str) -> KeySet: ...
    @staticmethod
    def derive(
        secret: bytes | str, label: str, fallbacks: Sequence[bytes | str] = ()
    ) -> KeySet: ...
    def rotate(self, alg: str) -> str: ...
    def add(self, alg: str) -> str: ...
    def activate(self, kid: str) -> None: ...
    def retire(self, kid: str) -> None: ...
    @property
    def active(self) -> Optional[str]: ...
    @property
    def active_sealing(self) -> Optional[str]: ...
    @property
    def algorithms(self) -> dict[str, str]: ...
    def public_jwks(self) -> dict[str, Any]: ...
    def to_json(self) -> str: ...
    def __len__(self) -> int: ...

@final
class Claims:
    """The claims of a verified token; `dat` as plain Python values."""

    @property
    def iss(self) -> str: ...
    @property
    def aud(self) -> str: ...
    @property
    def sub(self) -> Optional[str]: ...
    @property
    def iat(self) -> int: ...
    @property
    def nbf(self) -> int: ...
    @property
    def exp(self) -> int: ...
    @property
    def jti(self) -> str: ...
    @property
    def fpr(self) -> Optional[str]: ...
    @property
    def dat(self) -> Any: ...
    def to_dict(self) -> dict[str, Any]: ...

def mint(
    keys: KeySet,
    dat_json: Optional[str],
    *,
    iss: str,
    aud: str,
    sub: Optional[str] = None,
    ttl: int = 300,
    nbf: Optional[int] = None,
    fpr: Optional[str] = None,
    sealed: bool = False,
    now: Optional[int] = None,
    max_lifetime: int = 86400,
    max_len: int = 8192,
    jti: Optional[str] = None,
) -> str: ...
def verify(
    token: str,
    keys: KeySet,
    *,
    iss: str,
    aud: str,
    sub: Optional[str] = None,
    anonymous: bool = False,
    accept: str = "signed",
    leeway: int = 30,
    max_lifetime: int = 86400,
    max_len: int = 8192,
    now: Optional[int] = None,
) -> Claims:
    """Verifies `token` (spec §5) and returns its claims, or raises tessera.TesseraError."""
