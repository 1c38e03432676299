"""Tessera v1 reference implementation (see spec/PROTOCOL.md).

Standard library only for HS256. EdDSA (Ed25519) and sealed tokens (JWE dir + A256GCM) need
the `cryptography` package; when it is not importable, those operations raise EdDSAUnavailable
or SealingUnavailable (both CryptoUnavailable) and everything HS256 still works.

    ks = load_key_set(open("keys.json").read())
    token = mint(ks, iss="inventree", aud="plugin:stock-tools/action:transfer", dat={"n": 1}, now=now)
    claims = verify(token, ks, now=now, iss="inventree", aud="plugin:stock-tools/action:transfer")
    sealed = mint(ks, "inventree", "plugin:hr/action:raise", {"salary": 1}, now, sealed=True)
    claims = verify(sealed, ks, now, "inventree", "plugin:hr/action:raise", accept="sealed")

Error messages never contain the token, a string taken from it, or key material.
"""
import base64
import hashlib
import hmac
import json
import math
import re
import secrets
from dataclasses import dataclass, field

try:
    from cryptography.exceptions import InvalidSignature, InvalidTag
    from cryptography.hazmat.primitives.asymmetric import ed25519 as _ed25519
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM as _AESGCM
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError:  # pragma: no cover - depends on the environment
    _ed25519 = _AESGCM = None

TYP = "tessera+jwt"
MAX_TIME = 253402300799  # 9999-12-31T23:59:59Z
CLAIM_ORDER = ("iss", "aud", "sub", "iat", "nbf", "exp", "jti", "fpr", "dat")
REQUIRED_CLAIMS = {"iat", "exp", "jti", "dat"}  # iss/aud are checked by steps 13/14
SIGNATURE_ALGS = ("HS256", "EdDSA")
SEALING_ALG = "A256GCM"          # the algorithm of a sealing key ...
SEALED_HEADER = {"alg": "dir", "enc": "A256GCM"}  # ... and what a sealed header says about it
IV_LEN, TAG_LEN, SEALING_KEY_LEN = 12, 16, 32
ACCEPT = ("signed", "sealed", "either")  # which kinds of token a route takes
KEY_KTY = {"HS256": "oct", "A256GCM": "oct", "EdDSA": "OKP"}  # a key knows its one algorithm
KEY_MEMBERS = {"oct": {"kty", "kid", "use", "alg", "k"},
               "OKP": {"kty", "kid", "use", "alg", "crv", "x", "d"}}
HEADER_MEMBERS = {"signed": {"alg", "typ", "kid"}, "sealed": {"alg", "enc", "typ", "kid"}}
_B64URL = re.compile(r"[A-Za-z0-9_-]+\Z")
_COMPACT = re.compile(rb"[A-Za-z0-9_.-]*\Z")
_KID = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")

class TesseraError(Exception):
    """A protocol error: `code` is one of the stable codes of PROTOCOL.md."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message

class CryptoUnavailable(RuntimeError):
    """An operation needs the `cryptography` package, which is not importable."""

class EdDSAUnavailable(CryptoUnavailable):
    """EdDSA was needed but the `cryptography` package is not importable."""

class SealingUnavailable(CryptoUnavailable):
    """AES-256-GCM (sealed tokens) was needed but `cryptography` is not importable."""

def _need_ed25519():
    if _ed25519 is None:
        raise EdDSAUnavailable("EdDSA needs the 'cryptography' package, which is not importable")

def _need_aesgcm():
    if _AESGCM is None:
        raise SealingUnavailable("sealed tokens need the 'cryptography' package, which is not importable")

def unavailable_features():
    """What this environment cannot do for lack of `cryptography`: [], or some of
    "EdDSA" (Ed25519 signing keys) and "sealed" (sealed tokens)."""
    return [name for name, module in (("EdDSA", _ed25519), ("sealed", _AESGCM)) if module is None]

# ---- strict base64url and JSON (the standard library is lenient; these are not) ----

def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

def b64d(text):
    """RFC 4648 §5 without padding, canonical only. urlsafe_b64decode alone would skip bad
    characters, accept '=' padding and ignore non-zero trailing bits, so check all three."""
    if not isinstance(text, str) or not _B64URL.match(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64e(data) != text:
        raise ValueError("not canonical base64url (non-zero trailing bits)")
    return data

def _no_duplicates(pairs):
    obj = {}
    for name, value in pairs:
        if name in obj:
            raise ValueError("duplicate member name")
        obj[name] = value
    return obj

def _no_constant(name):
    raise ValueError("NaN and Infinity are not JSON")

def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value

def _int_or_float(text):
    # As common JSON parsers do (serde_json): "-0" and integers beyond 64 bits become floats,
    # so they can never pass as a time claim, and payloads compare equal across implementations.
    value = int(text)
    if (text.startswith("-") and value == 0) or not -2**63 <= value < 2**64:
        return _finite_float(text)
    return value

def _exact_int(text):
    # For a minter's input (spec 4 step 6): an integer beyond 64 bits stays an integer, which
    # mint() refuses, instead of becoming the binary64 number a verifier would read. -0 is -0.0.
    value = int(text)
    return _finite_float(text) if text.startswith("-") and value == 0 else value

def parse_json(data, exact_integers=False):
    """Strict RFC 8259 JSON from bytes: UTF-8 only (no BOM, no invalid or overlong sequences),
    no duplicate member names at any depth, no NaN/Infinity, no lone surrogate escapes.
    Integers beyond 64 bits are read as a verifier reads them (binary64), or with
    `exact_integers=True` as the integers written (for text a minter is handed)."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError("byte order mark")
    text = data.decode("utf-8")  # strict: refuses invalid, overlong and surrogate byte sequences
    value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant,
                       parse_float=_finite_float,
                       parse_int=_exact_int if exact_integers else _int_or_float)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # "\ud800" parses; encoding refuses it
    return value

def _parse(data, what, code="malformed"):
    try:
        return parse_json(data)
    except (ValueError, RecursionError, OverflowError):
        raise TesseraError(code, f"{what} is not strict UTF-8 JSON") from None

MAX_CLAIMS_DEPTH = 64  # §2.4: the claims object is depth 1, each array or object inside adds one

def _depth(value):
    """Nesting depth of a parsed JSON value: a scalar 0, [] or {} 1, [[]] 2."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in children)
    return deepest

def _compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

def _has_lone_surrogate(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False

def _minted_double(value):
    """A finite float in the minted form (spec 2.6, item 6): repr's shortest digits, laid out
    plainly from 1e-5 up to below 1e16, with an exponent (e+16, e-6) outside that."""
    if not math.isfinite(value):
        raise ValueError("NaN and infinity are not JSON")
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    k = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))  # 0.digits x 10^k
    digits = digits.rstrip("0")
    n, sign = len(digits), "-" if value < 0 else ""
    if n <= k <= 16:
        return sign + digits + "0" * (k - n) + ".0"
    if 0 < k <= 16:
        return sign + digits[:k] + "." + digits[k:]
    if -5 < k <= 0:
        return sign + "0." + "0" * -k + digits
    rest = "." + digits[1:] if n > 1 else ""
    return f"{sign}{digits[0]}{rest}e{'+' if k > 0 else '-'}{abs(k - 1)}"

def _minted(value):
    """JSON text of a payload value in the minted form (spec 2.6): no whitespace, object
    members sorted by code point, integers in -2^63..=2^64-1 exact, floats as _minted_double.
    ValueError or TypeError for what a token cannot carry."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, int):
        if not -2**63 <= value < 2**64:  # a verifier would read a binary64 number (spec 4 step 6)
            raise ValueError("an integer beyond 64 bits")
        return str(int(value))
    if isinstance(value, float):
        return _minted_double(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_minted(item) for item in value) + "]"
    if isinstance(value, dict):
        members = {}
        for name, item in value.items():  # integer keys are written as their decimal text
            name = str(int(name)) if isinstance(name, int) and not isinstance(name, bool) else name
            if not isinstance(name, str) or name in members:
                raise ValueError("a member name that is not a string, or repeated")
            members[name] = item
        return "{" + ",".join(json.dumps(name, ensure_ascii=False) + ":" + _minted(members[name])
                              for name in sorted(members)) + "}"
    raise TypeError(f"{type(value).__name__} is not a JSON value")

def _is_time(value):
    return type(value) is int and 0 <= value <= MAX_TIME  # bool is not int here; floats refused

# ---- keys and key sets ----

@dataclass(frozen=True)
class Key:
    kid: str
    alg: str                                          # HS256, EdDSA or A256GCM
    secret: bytes = field(default=None, repr=False)  # HS256 secret, A256GCM key
    x: bytes = None                                   # EdDSA public key
    d: bytes = field(default=None, repr=False)       # EdDSA seed (absent: verify-only)

    @property
    def can_sign(self):
        return self.alg == "HS256" or (self.alg == "EdDSA" and self.d is not None)

    @property
    def can_seal(self):
        return self.alg == SEALING_ALG

@dataclass(frozen=True)
class KeySet:
    keys: dict  # kid -> Key
    active: str = None          # the signing key that mints
    active_sealing: str = None  # the A256GCM key that seals

def _ed_public(seed):
    _need_ed25519()
    public = _ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)

def _load_jwk(jwk):
    def bad(msg):
        return TesseraError("invalid_key", msg)

    if not isinstance(jwk, dict):
        raise bad("a key is a JSON object")
    kid, kty = jwk.get("kid"), jwk.get("kty")
    if not isinstance(kid, str) or not _KID.match(kid):
        raise bad('"kid" must be 1..64 characters of [A-Za-z0-9._-]')
    alg = jwk.get("alg")
    if not isinstance(alg, str) or alg not in KEY_KTY or kty != KEY_KTY[alg]:
        raise bad(f'key {kid}: "alg" is required and must fit "kty" (oct: HS256 or A256GCM, OKP: EdDSA)')
    if set(jwk) - KEY_MEMBERS[kty]:
        raise bad(f"key {kid}: unexpected member for a {kty} key")
    use = "enc" if alg == SEALING_ALG else "sig"
    if "use" in jwk and jwk["use"] != use:
        raise bad(f'key {kid}: "use" must be "{use}" for an {alg} key')

    def material(name, size=None):
        try:
            raw = b64d(jwk[name])
        except (KeyError, ValueError):
            raise bad(f'key {kid}: "{name}" missing or not canonical base64url') from None
        if size is not None and len(raw) != size:
            raise bad(f'key {kid}: "{name}" must be {size} bytes')
        return raw

    if alg == SEALING_ALG:
        return Key(kid, alg, secret=material("k", SEALING_KEY_LEN))
    if alg == "HS256":
        secret = material("k")
        if len(secret) < 32:
            raise bad(f"key {kid}: an HS256 secret must be at least 32 bytes")
        return Key(kid, "HS256", secret=secret)
    if jwk.get("crv") != "Ed25519":
        raise bad(f'key {kid}: an OKP key must have "crv": "Ed25519"')
    x = material("x", 32)
    if _is_small_order(x):
        raise bad(f'key {kid}: the Ed25519 "x" is a point of small order, under which anyone '
                  "could forge signatures")
    d = material("d", 32) if "d" in jwk else None
    # Without `cryptography` this check cannot run; the key loads and EdDSA use fails later.
    if d is not None and _ed25519 is not None and _ed_public(d) != x:
        raise bad(f'key {kid}: "d" does not derive "x"')
    return Key(kid, "EdDSA", x=x, d=d)

# The y coordinates of the Ed25519 points of small order (spec 3.2): 0, 1, the two of order
# 8, p - 1, and the non-canonical p and p + 1. An encoding is y (little-endian) plus a sign bit.
_P = 2**255 - 19
_SMALL_ORDER_Y = {0, 1, _P - 1, _P, _P + 1,
                  0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826,
                  0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7}

def _is_small_order(x):
    return int.from_bytes(x, "little") & ~(1 << 255) in _SMALL_ORDER_Y

MAX_KEYS = 1024  # the most keys a key set may list (spec 3.4)
MAX_KEY_SET_BYTES = 1024 * 1024  # the largest key set document, checked before parsing

def load_key_set(src):
    """A key set from a dict or JSON text/bytes:
    {"keys": [JWK, ...], "active": signing kid?, "active_sealing": A256GCM kid?}."""
    if isinstance(src, (str, bytes)):
        size = len(src.encode("utf-8") if isinstance(src, str) else src)
        if size > MAX_KEY_SET_BYTES:
            raise TesseraError("invalid_key", f"the key set document is {size} bytes, more "
                               f"than the {MAX_KEY_SET_BYTES} allowed")
        src = _parse(src.encode("utf-8") if isinstance(src, str) else src, "key set", "invalid_key")
    if (not isinstance(src, dict) or not isinstance(src.get("keys"), list)
            or set(src) - {"keys", "active", "active_sealing"}):
        raise TesseraError("invalid_key",
                           'a key set is {"keys": [...], "active": kid, "active_sealing": kid}')
    if len(src["keys"]) > MAX_KEYS:
        raise TesseraError("invalid_key", f"the key set lists {len(src['keys'])} keys, more "
                           f"than the {MAX_KEYS} allowed")
    keys = {}
    for jwk in src["keys"]:
        key = _load_jwk(jwk)
        if key.kid in keys:
            raise TesseraError("invalid_key", f"duplicate kid {key.kid}")
        for other in keys.values():
            if ({other.alg, key.alg} == {"HS256", "A256GCM"}
                    and hmac.compare_digest(other.secret, key.secret)):
                raise TesseraError("invalid_key", f"keys {other.kid} and {key.kid} hold the same "
                                                  "secret, one to sign and one to seal")
            # An HMAC secret is never a public key of the set, as bytes or as its base64url text.
            pair = {other.alg: other, key.alg: key}
            if set(pair) == {"HS256", "EdDSA"}:
                secret, x = pair["HS256"].secret, pair["EdDSA"].x
                if secret in (x, b64e(x).encode("ascii")):
                    raise TesseraError("invalid_key", f"keys {other.kid} and {key.kid}: an HS256 "
                                                      "secret is an Ed25519 public key")
        keys[key.kid] = key
    # A member that is present names a key: null is not absence.
    for member in ("active", "active_sealing"):
        if member in src and not isinstance(src[member], str):
            raise TesseraError("invalid_key", f'"{member}" does not name a key of the set')
    active = src.get("active")
    if active is not None:
        if not isinstance(active, str) or active not in keys:
            raise TesseraError("invalid_key", '"active" does not name a key of the set')
        if not keys[active].can_sign:
            raise TesseraError("invalid_key", 'the active key cannot sign (a sealing key, or no "d")')
    sealing = src.get("active_sealing")
    if sealing is not None:
        if not isinstance(sealing, str) or sealing not in keys:
            raise TesseraError("invalid_key", '"active_sealing" does not name a key of the set')
        if not keys[sealing].can_seal:
            raise TesseraError("invalid_key", "the active sealing key is not an A256GCM key")
    return KeySet(keys, active, sealing)

def public_jwks(key_set):
    """The JWKS endpoint document: EdDSA public keys only, never "d", never an HMAC or sealing key."""
    return {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": k.kid, "use": "sig", "alg": "EdDSA",
                      "x": b64e(k.x)} for k in key_set.keys.values() if k.alg == "EdDSA"]}

def load_public_jwks(src):
    """A key set from an issuer's published JWKS (spec 8.4): EdDSA public keys only. An HMAC or
    sealing key, a "d", or an "active" / "active_sealing" member refuses the whole document."""
    key_set = load_key_set(src)
    if key_set.active is not None or key_set.active_sealing is not None:
        raise TesseraError("invalid_key", "a published key set must not name an active key")
    for key in key_set.keys.values():
        if key.alg != "EdDSA":
            raise TesseraError("invalid_key",
                               "key %s of a published key set is %s: only EdDSA public keys"
                               % (key.kid, key.alg))
        if key.d is not None:
            raise TesseraError("invalid_key",
                               "key %s of a published key set carries its private part (d)" % key.kid)
    return key_set

def _sign(key, signing_input):
    if key.alg == "HS256":
        return hmac.new(key.secret, signing_input, hashlib.sha256).digest()
    _need_ed25519()
    return _ed25519.Ed25519PrivateKey.from_private_bytes(key.d).sign(signing_input)

def _signature_ok(key, signing_input, signature):
    if key.alg == "HS256":
        return hmac.compare_digest(_sign(key, signing_input), signature)  # constant time
    _need_ed25519()
    try:
        _ed25519.Ed25519PublicKey.from_public_bytes(key.x).verify(signature, signing_input)
    except (InvalidSignature, ValueError):
        return False
    return len(signature) == 64

# ---- minting ----

def mint(key_set, iss, aud, dat, now, ttl=300, sub=None, jti=None, nbf=None, fpr=None,
         max_len=8192, max_lifetime=86400, sealed=False, iv=None):
    """A token signed with the active key or, with `sealed=True`, sealed (JWE dir + A256GCM)
    with the active sealing key, written in the minted form (spec 2.6). TesseraError for a
    lifetime, expiry, nbf, fpr or payload the profile refuses, checked in the order of spec 4;
    ValueError for arguments of the wrong type. `jti` and `iv` (12 bytes) are for test
    vectors only: a real token's are random, and an IV never repeats under one key."""
    if not (type(max_len) is int and max_len > 0 and type(max_lifetime) is int and max_lifetime > 0):
        raise TesseraError("invalid_config", "max_len and max_lifetime are positive integers")
    kid = key_set.active_sealing if sealed else key_set.active
    key = key_set.keys.get(kid) if kid is not None else None
    if key is None:
        raise TesseraError("invalid_key", "the key set has no active sealing (A256GCM) key" if sealed
                           else "the key set has no active signing key")
    if not (isinstance(iss, str) and isinstance(aud, str) and isinstance(sub, (str, type(None)))):
        raise ValueError("iss and aud must be strings, sub a string or None")
    if not iss or not aud or sub == "":
        raise TesseraError("invalid_config", "the issuer, the audience and a subject, when given, "
                                             "are not empty")
    if any(_has_lone_surrogate(v) for v in (iss, aud, sub) if v is not None):
        raise TesseraError("invalid_config", "the issuer, the audience and the subject are Unicode "
                                             "text (no lone surrogate)")
    if type(now) is not int or now < 0 or type(ttl) is not int:
        raise ValueError("now must be a non-negative integer time and ttl an integer")
    if ttl <= 0:
        raise TesseraError("invalid_config", "a token's ttl is at least 1 second")
    if ttl > max_lifetime:
        raise TesseraError("lifetime_too_long", f"ttl {ttl}s exceeds the maximum lifetime {max_lifetime}s")
    exp = now + ttl
    if exp > MAX_TIME:  # §4 step 3: tokens carry times up to 9999-12-31T23:59:59Z only
        raise TesseraError("invalid_config", "the expiry would be after 9999-12-31T23:59:59Z")
    if nbf == now:
        nbf = None  # omitted when equal to iat
    if nbf is not None and not (type(nbf) is int and now < nbf < exp):
        raise TesseraError("invalid_config", "nbf must be an integer with iat < nbf < exp")
    if fpr is not None and not (isinstance(fpr, str) and not _has_lone_surrogate(fpr)
                                and 1 <= len(fpr.encode("utf-8")) <= 128):
        raise TesseraError("invalid_config", "fpr must be a string of 1..=128 UTF-8 bytes")
    jti = b64e(secrets.token_bytes(16)) if jti is None else jti
    if not isinstance(jti, str):
        raise ValueError("jti must be a string")
    values = {"iss": iss, "aud": aud, "sub": sub, "iat": now, "nbf": nbf, "exp": exp,
              "jti": jti, "fpr": fpr, "dat": dat}
    names = [n for n in CLAIM_ORDER if n == "dat" or values[n] is not None]
    try:  # NaN, lone surrogates, non-JSON types, integers beyond 64 bits; {1: .., "1": ..}
        claims_json = ("{" + ",".join(f'"{n}":' + _minted(values[n]) for n in names)
                       + "}").encode("utf-8")
        claims = parse_json(claims_json)
    except (ValueError, TypeError, RecursionError):
        raise TesseraError("bad_payload", "the payload does not serialize to strict JSON") from None
    if _depth(claims) > MAX_CLAIMS_DEPTH:
        raise TesseraError("bad_payload", "the claims would nest deeper than 64 levels")
    if sealed:
        token = _seal(key, claims_json, iv)
    else:
        header = {"alg": key.alg, "typ": TYP, "kid": key.kid}
        signing_input = b64e(_compact(header).encode("utf-8")) + "." + b64e(claims_json)
        token = signing_input + "." + b64e(_sign(key, signing_input.encode("ascii")))
    if len(token) > max_len:
        raise TesseraError("too_large", f"the token would be {len(token)} bytes; the limit is {max_len}")
    return token

def _seal(key, claims_json, iv=None):
    """JWE compact: header . (empty encrypted key) . IV . ciphertext . tag. The AAD is the
    ASCII of the first segment. The nonce is fresh and random for every token (a given `iv`
    is for test vectors only): AES-GCM loses confidentiality and integrity if a nonce ever
    repeats under one key."""
    _need_aesgcm()
    header = {**SEALED_HEADER, "typ": TYP, "kid": key.kid}  # minted order: alg, enc, typ, kid
    protected = b64e(_compact(header).encode("utf-8"))
    if iv is None:
        iv = secrets.token_bytes(IV_LEN)
    elif not (isinstance(iv, bytes) and len(iv) == IV_LEN):
        raise ValueError("an IV is 12 bytes")
    sealed = _AESGCM(key.secret).encrypt(iv, claims_json, protected.encode("ascii"))
    ciphertext, tag = sealed[:-TAG_LEN], sealed[-TAG_LEN:]
    return ".".join((protected, "", b64e(iv), b64e(ciphertext), b64e(tag)))

def _open(key, protected, iv, ciphertext, tag):
    """The plaintext claims, or None when authenticated decryption fails (for any reason)."""
    _need_aesgcm()
    try:
        return _AESGCM(key.secret).decrypt(iv, ciphertext + tag, protected.encode("ascii"))
    except InvalidTag:
        return None

# ---- verification: the numbered steps of PROTOCOL.md, in order ----

def _check_claims(c):
    if not isinstance(c, dict):
        return "claims are not a JSON object"
    if set(c) - set(CLAIM_ORDER) or REQUIRED_CLAIMS - set(c):
        return "unknown or missing claims"
    if not all(_is_time(c[n]) for n in ("iat", "exp", "nbf") if n in c):
        return "iat, exp and nbf must be integers in 0..=253402300799"
    if not all(isinstance(c[n], str) for n in ("sub", "jti", "fpr") if n in c):
        return "sub, jti and fpr must be strings"
    if "fpr" in c and not 1 <= len(c["fpr"].encode("utf-8")) <= 128:
        return "fpr must be 1..=128 bytes"
    if c["exp"] <= c["iat"]:
        return "exp must be after iat"
    return None

def verify(token, key_set, now, iss, aud, sub=None, max_len=8192, leeway=30, max_lifetime=86400,
           payload_check=None, accept="signed", anonymous=False):
    """Returns the claims (a dict; the payload is claims["dat"]) or raises TesseraError.
    `accept` is the route's kind: "signed" (JWS), "sealed" (JWE dir + A256GCM) or "either".
    `anonymous=True` (with sub=None) says the caller is known to be nobody: a token that
    names a subject is then refused at step 15.
    `payload_check(dat)` stands for the application's payload type: False or an exception
    (ValueError, TypeError, KeyError) means the payload does not fit."""
    # now is any non-negative integer (spec 5.1): past 9999-12-31 every token has expired.
    if not (type(now) is int and now >= 0 and type(leeway) is int and 0 <= leeway <= 300
            and type(max_len) is int and max_len > 0 and type(max_lifetime) is int and max_lifetime > 0
            and accept in ACCEPT):
        raise TesseraError("invalid_config", "now, leeway (0..=300), max_len, max_lifetime or accept "
                                             "out of range")
    if not isinstance(token, (str, bytes)):
        raise TypeError("token must be str or bytes")
    raw = token.encode("utf-8", "surrogatepass") if isinstance(token, str) else token

    def malformed(msg):
        return TesseraError("malformed", msg)

    # Step 1: length cap, before any decoding.
    if len(raw) > max_len:
        raise TesseraError("too_large", f"token is {len(raw)} bytes long; the limit is {max_len}")
    # Step 2: compact form. Signed: three segments. Sealed: five, the second (the encrypted
    # key, for alg dir) empty, a 12-byte IV and a 16-byte tag. Every other segment non-empty
    # canonical base64url.
    if not _COMPACT.match(raw) or raw.count(b".") not in (2, 4):
        raise malformed("not three or five base64url segments separated by '.'")
    segments = raw.decode("ascii").split(".")
    kind = "signed" if len(segments) == 3 else "sealed"
    if kind == "sealed":
        if segments[1]:
            raise malformed("a sealed token's encrypted-key segment must be empty (alg dir)")
        del segments[1]
    try:
        decoded = [b64d(s) for s in segments]
    except ValueError:
        raise malformed("a segment is empty or not canonical unpadded base64url") from None
    if kind == "sealed" and (len(decoded[1]) != IV_LEN or len(decoded[3]) != TAG_LEN):
        raise malformed("a sealed token has a 12-byte IV and a 16-byte tag")
    # Step 3: header is a JSON object with exactly the string members alg, typ, kid, plus enc
    # in (and only in) a sealed token's protected header.
    header = _parse(decoded[0], "header")
    if (not isinstance(header, dict) or set(header) != HEADER_MEMBERS[kind]
            or not all(isinstance(v, str) for v in header.values())):
        raise malformed(f"a {kind} token's header members must be exactly the strings "
                        + ", ".join(sorted(HEADER_MEMBERS[kind])))
    # Step 4: explicit type.
    if header["typ"] != TYP:
        raise malformed("typ is not tessera+jwt")
    # Step 4 (continued): the route kind; a sealed token where signed ones are expected, or
    # the reverse, is malformed, before any key is looked up.
    if accept not in (kind, "either"):
        raise malformed(f"a {kind} token on a route that accepts {accept} tokens")
    # Step 5: the key named by kid (exact equality; a lookup, nothing else).
    key = key_set.keys.get(header["kid"])
    if key is None:
        raise TesseraError("unknown_key", "kid names no key in the key set")
    # Step 6: the key, not the token, decides the algorithm (so none, HS512, RS256, hs256 ...
    # never pass), and a signing key never opens a sealed token nor a sealing key verifies one.
    if kind == "signed":
        if key.alg not in SIGNATURE_ALGS:
            raise TesseraError("unsupported_algorithm", "a signed token names a sealing key")
        if header["alg"] != key.alg:
            raise TesseraError("unsupported_algorithm", f"alg is not {key.alg}, the algorithm of the key")
    elif {n: header[n] for n in SEALED_HEADER} != SEALED_HEADER or key.alg != SEALING_ALG:
        raise TesseraError("unsupported_algorithm", "a sealed token needs dir + A256GCM and an A256GCM key")
    # Step 7: the signature over ASCII(segment1 "." segment2), or authenticated decryption with
    # the protected header as AAD. Any decryption failure is the one coarse bad_signature.
    if kind == "signed":
        if not _signature_ok(key, ".".join(segments[:2]).encode("ascii"), decoded[2]):
            raise TesseraError("bad_signature", "signature does not verify")
        claims_bytes = decoded[1]
    else:
        claims_bytes = _open(key, segments[0], *decoded[1:])
        if claims_bytes is None:
            raise TesseraError("bad_signature", "sealed token does not decrypt")
    # Step 8: claims (only now, after the signature or decryption, is the claims JSON parsed).
    claims = _parse(claims_bytes, "claims")
    if _depth(claims) > MAX_CLAIMS_DEPTH:
        raise malformed("the claims nest deeper than 64 levels")
    problem = _check_claims(claims)
    if problem:
        raise malformed(problem)
    iat, exp = claims["iat"], claims["exp"]
    # Step 9
    # A sealed token's times are part of its secret plaintext: its messages leave them out.
    shown = kind != "sealed"
    if now >= exp + leeway:
        raise TesseraError("expired", f"token expired at {exp} (now {now})" if shown
                           else "token expired")
    # Step 10: a missing nbf is iat.
    if now + leeway < claims.get("nbf", iat):
        raise TesseraError("not_yet_valid", "token is not valid yet (nbf)")
    # Step 11
    if now + leeway < iat:
        raise TesseraError("not_yet_valid", "token is issued in the future (iat)")
    # Step 12
    if exp - iat > max_lifetime:
        raise TesseraError("lifetime_too_long", f"lifetime {exp - iat}s exceeds {max_lifetime}s"
                           if shown else f"lifetime exceeds {max_lifetime}s")
    # Step 13: exactly one string, compared exactly (arrays never match).
    if not isinstance(claims.get("iss"), str) or claims["iss"] != iss:
        raise TesseraError("wrong_issuer", "token was issued by another issuer")
    # Step 14
    if not isinstance(claims.get("aud"), str) or claims["aud"] != aud:
        raise TesseraError("wrong_audience", "token was minted for another action")
    # Step 15
    if sub is not None and claims.get("sub") != sub:
        raise TesseraError("wrong_subject", "token was minted for another principal")
    if sub is None and anonymous and "sub" in claims:
        raise TesseraError("wrong_subject", "token was minted for a principal; the caller is anonymous")
    # Step 16
    if payload_check is not None:
        try:
            fits = payload_check(claims["dat"])
        except (ValueError, TypeError, KeyError):
            fits = False
        if fits is False:
            raise TesseraError("bad_payload", "payload does not fit the action's type")
    return claims
