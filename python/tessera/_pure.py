"""The pure-Python backend: the package's API over the reference implementation.

`tessera._reference` (the spec's reference, spec/reference/python points to it) holds every
protocol rule; this module gives it the same classes and functions as the compiled backend
(`tessera._native`), and turns its errors into `tessera.TesseraError`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Optional, Union

from . import _reference as ref
from ._errors import TesseraError

_ALGS = ("HS256", "EdDSA", "A256GCM")
_KID_DRAWS = 16
_MAX_DERIVE_LABEL = 255
_DERIVE_SALT = b"tessera/v1/derive"


@contextmanager
def _errors() -> Iterator[None]:
    """The reference's errors as the package's exception (same code, same message)."""
    try:
        yield
    except TesseraError:
        raise
    except ref.TesseraError as e:
        raise TesseraError(e.code, e.message) from None


def _alg(name: str) -> str:
    if name not in _ALGS:
        raise ValueError("the algorithm is one of HS256, EdDSA, A256GCM")
    return name


def _new_jwk(alg: str, kid: str) -> dict[str, str]:
    if alg == "EdDSA":
        ref._need_ed25519()
        private = ref._ed25519.Ed25519PrivateKey.generate()
        seed = private.private_bytes_raw()
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "kid": kid,
            "use": "sig",
            "alg": "EdDSA",
            "x": ref.b64e(ref._ed_public(seed)),
            "d": ref.b64e(seed),
        }
    use = "enc" if alg == "A256GCM" else "sig"
    return {
        "kty": "oct",
        "kid": kid,
        "use": use,
        "alg": alg,
        "k": ref.b64e(secrets.token_bytes(32)),
    }


def _key_jwk(key: Any) -> dict[str, str]:
    """A loaded key back as its JWK (the member order the Rust key files use)."""
    if key.alg == "EdDSA":
        jwk = {"kty": "OKP", "crv": "Ed25519", "kid": key.kid, "use": "sig", "alg": "EdDSA"}
        jwk["x"] = ref.b64e(key.x)
        if key.d is not None:
            jwk["d"] = ref.b64e(key.d)
        return jwk
    use = "enc" if key.alg == "A256GCM" else "sig"
    return {"kty": "oct", "kid": key.kid, "use": use, "alg": key.alg, "k": ref.b64e(key.secret)}


def _hkdf(secret: bytes, purpose: bytes, label: bytes, length: int) -> bytes:
    """HKDF-SHA256 (RFC 5869) as spec §3.7 uses it: the fixed salt, and the info
    "tessera/v1/" purpose NUL label."""
    prk = hmac.new(_DERIVE_SALT, secret, hashlib.sha256).digest()
    info = b"tessera/v1/" + purpose + b"\0" + label
    out, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
    return out[:length]


def _octets(secret: Union[bytes, str]) -> bytes:
    """A secret's bytes: a text secret is its UTF-8 (spec §3.7)."""
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def derive_jwks(secret: bytes, label: str) -> list[dict[str, str]]:
    """The HS256 and A256GCM JWKs derived from `secret` and `label` (spec §3.7)."""
    if len(secret) < 32:
        raise TesseraError("invalid_key", "a secret to derive keys from is at least 32 bytes")
    raw_label = label.encode("utf-8")
    if not 1 <= len(raw_label) <= _MAX_DERIVE_LABEL:
        raise TesseraError(
            "invalid_config", f"a derivation label is 1 to {_MAX_DERIVE_LABEL} bytes"
        )
    suffix = ref.b64e(_hkdf(secret, b"kid", raw_label, 6))
    return [
        {
            "kty": "oct",
            "kid": f"hs256-{suffix}",
            "use": "sig",
            "alg": "HS256",
            "k": ref.b64e(_hkdf(secret, b"hs256", raw_label, 32)),
        },
        {
            "kty": "oct",
            "kid": f"a256gcm-{suffix}",
            "use": "enc",
            "alg": "A256GCM",
            "k": ref.b64e(_hkdf(secret, b"a256gcm", raw_label, 32)),
        },
    ]


class KeySet:
    """A key set (spec §3.4); the same API as the compiled backend's."""

    __slots__ = ("_set",)

    def __init__(self, loaded: Any) -> None:
        self._set = loaded

    @staticmethod
    def _load(doc: Any) -> KeySet:
        with _errors():
            return KeySet(ref.load_key_set(doc))

    @staticmethod
    def from_json(text: str) -> KeySet:
        return KeySet._load(text)

    @staticmethod
    def from_file(path: str | os.PathLike[str]) -> KeySet:
        try:
            with open(path, "rb") as f:
                raw = f.read(ref.MAX_KEY_SET_BYTES + 1)
        except OSError as e:
            reason = e.strerror or type(e).__name__
            raise TesseraError("invalid_key", f"cannot read key file {path}: {reason}") from None
        try:
            return KeySet.from_json(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise TesseraError("invalid_key", f"key file {path}: not UTF-8") from None
        except TesseraError as e:
            raise TesseraError(e.code, f"key file {path}: {e.message}") from None

    @staticmethod
    def from_env(var: str = "TESSERA_KEYS") -> KeySet:
        text = os.environ.get(var)
        if text is None:
            raise TesseraError("invalid_key", f"environment variable {var} is not set or not UTF-8")
        try:
            return KeySet.from_json(text)
        except TesseraError as e:
            raise TesseraError(e.code, f"{var}: {e.message}") from None

    @staticmethod
    def from_public_jwks(text: str) -> KeySet:
        with _errors():
            return KeySet(ref.load_public_jwks(text))

    @staticmethod
    def generate(alg: str) -> KeySet:
        ks = KeySet._load({"keys": []})
        ks.rotate(alg)
        return ks

    @staticmethod
    def derive(
        secret: Union[bytes, str], label: str, fallbacks: Sequence[Union[bytes, str]] = ()
    ) -> KeySet:
        keys = derive_jwks(_octets(secret), label)
        active, active_sealing = keys[0]["kid"], keys[1]["kid"]
        for fallback in fallbacks:
            more = derive_jwks(_octets(fallback), label)
            if all(k["kid"] != more[0]["kid"] for k in keys):
                keys.extend(more)
        return KeySet._load({"keys": keys, "active": active, "active_sealing": active_sealing})

    def _doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"keys": [_key_jwk(k) for k in self._set.keys.values()]}
        if self._set.active is not None:
            doc["active"] = self._set.active
        if self._set.active_sealing is not None:
            doc["active_sealing"] = self._set.active_sealing
        return doc

    def _replace(self, doc: dict[str, Any]) -> None:
        self._set = KeySet._load(doc)._set

    def add(self, alg: str) -> str:
        alg = _alg(alg)
        for _ in range(_KID_DRAWS):
            kid = ref.b64e(secrets.token_bytes(3))
            if kid not in self._set.keys:
                break
        else:
            raise TesseraError("invalid_key", "could not draw an unused kid")
        doc = self._doc()
        if len(doc["keys"]) >= ref.MAX_KEYS:
            raise TesseraError("invalid_key", f"the key set already holds {ref.MAX_KEYS} keys")
        doc["keys"].append(_new_jwk(alg, kid))
        self._replace(doc)
        return kid

    def rotate(self, alg: str) -> str:
        kid = self.add(alg)
        self.activate(kid)
        return kid

    def activate(self, kid: str) -> None:
        key = self._set.keys.get(kid)
        doc = self._doc()
        doc["active_sealing" if key is not None and key.alg == "A256GCM" else "active"] = kid
        self._replace(doc)

    def retire(self, kid: str) -> None:
        if kid not in self._set.keys:
            # never quoted: not a kid of the set, it could be anything (a pasted secret)
            raise TesseraError("invalid_key", "the key to retire is not in the key set")
        if kid in (self._set.active, self._set.active_sealing):
            raise TesseraError(
                "invalid_key", f"key {kid} is an active key; rotate to a new key before retiring it"
            )
        doc = self._doc()
        doc["keys"] = [k for k in doc["keys"] if k["kid"] != kid]
        self._replace(doc)

    @property
    def active(self) -> Optional[str]:
        active: Optional[str] = self._set.active
        return active

    @property
    def active_sealing(self) -> Optional[str]:
        sealing: Optional[str] = self._set.active_sealing
        return sealing

    @property
    def algorithms(self) -> dict[str, str]:
        return {kid: key.alg for kid, key in self._set.keys.items()}

    def public_jwks(self) -> dict[str, Any]:
        jwks: dict[str, Any] = ref.public_jwks(self._set)
        return jwks

    def to_json(self) -> str:
        return json.dumps(self._doc(), indent=2)

    def __len__(self) -> int:
        return len(self._set.keys)

    def __repr__(self) -> str:
        keys = ", ".join(f"{kid}:{alg}" for kid, alg in self.algorithms.items())
        return (
            f"KeySet(keys=[{keys}], active={self.active!r}, active_sealing={self.active_sealing!r})"
        )


class Claims:
    """The claims of a verified token; `dat` as plain Python values."""

    __slots__ = ("aud", "dat", "exp", "fpr", "iat", "iss", "jti", "nbf", "sub")

    def __init__(self, claims: dict[str, Any]) -> None:
        self.iss: str = claims["iss"]
        self.aud: str = claims["aud"]
        self.sub: Optional[str] = claims.get("sub")
        self.iat: int = claims["iat"]
        self.nbf: int = claims.get("nbf", claims["iat"])
        self.exp: int = claims["exp"]
        self.jti: str = claims["jti"]
        self.fpr: Optional[str] = claims.get("fpr")
        self.dat: Any = claims["dat"]

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ref.CLAIM_ORDER}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Claims) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Claims(iss={self.iss!r}, aud={self.aud!r}, sub={self.sub!r}, iat={self.iat}, "
            f"nbf={self.nbf}, exp={self.exp})"
        )


def mint(
    keys: KeySet,
    dat: Any,
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
) -> str:
    if sealed and jti is not None:
        raise ValueError("a sealed token's jti is random")
    with _errors():
        token: str = ref.mint(
            keys._set,
            iss,
            aud,
            dat,
            int(time.time()) if now is None else now,
            ttl=ttl,
            sub=sub,
            jti=jti,
            nbf=nbf,
            fpr=fpr,
            max_len=max_len,
            max_lifetime=max_lifetime,
            sealed=sealed,
        )
    return token


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
    with _errors():
        claims = ref.verify(
            token,
            keys._set,
            int(time.time()) if now is None else now,
            iss,
            aud,
            sub=sub,
            max_len=max_len,
            leeway=leeway,
            max_lifetime=max_lifetime,
            accept=accept,
            anonymous=anonymous,
        )
    return Claims(claims)
