"""Self-tests of the Python reference: hand-built tokens for every step and error code, and
the standard library's leniencies (base64, json) that the reference must not inherit.

Run: python3 -m unittest discover -s spec/reference/python -v
"""
import base64
import contextlib
import io
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import run_vectors
# The reference implementation is the pure-Python backend of the package `tessera`:
# python/tessera/_reference.py (imported from the source tree, no install needed).
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python"))
from tessera import _reference as ref  # noqa: E402
TesseraError = ref.TesseraError

HERE = Path(__file__).resolve().parent
HAVE_ED = ref._ed25519 is not None
HAVE_AES = ref._AESGCM is not None
NOW = 1790000000
ISS, AUD, SUB = "inventree", "plugin:stock-tools/action:transfer", "user:42"
SECRET = bytes(range(1, 33))
OLD_SECRET = bytes(range(101, 133))
ENC_KEY = bytes(range(201, 233))      # the A256GCM sealing key "enc-1"
OLD_ENC_KEY = bytes(range(151, 183))  # "enc-0", rotated out
IV = b"test-nonce-1"                  # 12 bytes; hand-built tokens only (real ones draw it)
# RFC 8037 Appendix A.1 Ed25519 key pair, with the members tessera requires.
ED_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
ED_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs_jwk(kid="hs-1", secret=SECRET, **extra):
    return {"kty": "oct", "kid": kid, "use": "sig", "alg": "HS256", "k": b64(secret), **extra}


def ed_jwk(kid="ed-1", private=True, **extra):
    jwk = {"kty": "OKP", "crv": "Ed25519", "kid": kid, "use": "sig", "alg": "EdDSA", "x": ED_X}
    if private:
        jwk["d"] = ED_D
    return {**jwk, **extra}


def enc_jwk(kid="enc-1", key=ENC_KEY, **extra):
    return {"kty": "oct", "kid": kid, "use": "enc", "alg": "A256GCM", "k": b64(key), **extra}


def key_set_json(active="hs-1"):
    return {"keys": [hs_jwk(), hs_jwk("hs-0", OLD_SECRET), ed_jwk()], "active": active}


def sealing_set_json(active_sealing="enc-1"):
    return {"keys": [hs_jwk(), enc_jwk(), enc_jwk("enc-0", OLD_ENC_KEY)], "active": "hs-1",
            "active_sealing": active_sealing}


KEYS = ref.load_key_set(key_set_json())
SEALING_KEYS = ref.load_key_set(sealing_set_json())


def header(**changes):
    h = {"alg": "HS256", "typ": "tessera+jwt", "kid": "hs-1"}
    h.update(changes)
    return {k: v for k, v in h.items() if v is not DROP}


def claims(**changes):
    c = {"iss": ISS, "aud": AUD, "sub": SUB, "iat": NOW - 10, "exp": NOW + 290,
         "jti": "AAAAAAAAAAAAAAAAAAAAAA", "dat": {"item": 7, "qty": 2.5}}
    c.update(changes)
    return {k: v for k, v in c.items() if v is not DROP}


DROP = object()


def as_bytes(value):
    """Bytes from an object (compact JSON), raw JSON text (str) or raw bytes."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, separators=(",", ":"))
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass")
    return value


def seg(value):
    """A segment from an object (compact JSON), raw JSON text (str) or raw bytes."""
    return b64(as_bytes(value))


def token(h=None, c=None, secret=SECRET, sig=None):
    """An HS256 token signed by hand (hmac/json/base64 only, no code from the reference)."""
    signing_input = seg(header() if h is None else h) + "." + seg(claims() if c is None else c)
    if sig is None:
        sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + (sig if isinstance(sig, str) else b64(sig))


def ed_token(h, c):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    signing_input = seg(h) + "." + seg(c)
    key = Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(ED_D + "="))
    return signing_input + "." + b64(key.sign(signing_input.encode()))


def sealed_header(**changes):
    h = {"alg": "dir", "enc": "A256GCM", "typ": "tessera+jwt", "kid": "enc-1"}
    h.update(changes)
    return {k: v for k, v in h.items() if v is not DROP}


def sealed_token(h=None, c=None, key=ENC_KEY, iv=IV):
    """A sealed token built by hand with `cryptography`'s AESGCM (no code from the reference)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    protected = seg(sealed_header() if h is None else h)
    out = AESGCM(key).encrypt(iv, as_bytes(claims() if c is None else c), protected.encode())
    return f"{protected}..{b64(iv)}.{b64(out[:-16])}.{b64(out[-16:])}"


def verify(tok, keys=KEYS, now=NOW, iss=ISS, aud=AUD, sub=SUB, **kw):
    return ref.verify(tok, keys, now, iss, aud, sub=sub, **kw)


class Base(unittest.TestCase):
    def assertCode(self, code, tok, **kw):
        with self.assertRaises(TesseraError) as cm:
            verify(tok, **kw)
        self.assertEqual(cm.exception.code, code, cm.exception.message)
        # Messages never echo the token or key material.
        text = str(cm.exception)
        if len(tok) > 8:
            self.assertNotIn(tok, text)
        self.assertNotIn(b64(SECRET), text)
        self.assertNotIn(b64(ENC_KEY), text)
        return cm.exception


class StdlibLeniency(unittest.TestCase):
    """The traps: what the standard library accepts and the reference refuses."""

    def test_base64_decoder_is_lenient(self):
        self.assertEqual(base64.urlsafe_b64decode("YW I=\n"), b"ab")  # skips junk, eats padding
        self.assertEqual(base64.urlsafe_b64decode("YWJ="), b"ab")     # non-canonical tail bits
        for bad in ("YW I", "YWI=", "YWJ", "YW+I", "YW/I", "Y", "YWJjZ", "", "YWI\n"):
            with self.assertRaises(ValueError, msg=bad):
                ref.b64d(bad)
        self.assertEqual(ref.b64d("YWI"), b"ab")

    def test_json_loads_is_lenient(self):
        self.assertEqual(json.loads('{"a":1,"a":2}'), {"a": 2})
        self.assertTrue(json.loads("NaN") != json.loads("NaN"))
        self.assertEqual(len(json.loads('"\\ud800"')), 1)
        self.assertEqual(json.loads(b'\xef\xbb\xbf{}'), {})
        for bad in (b'{"a":1,"a":2}', b'{"x":{"a":[{"b":1,"b":1}]}}', b"NaN", b"[Infinity]",
                    b"[-Infinity]", b'"\\ud800"', b'{"\\udfff":1}', b"\xef\xbb\xbf{}",
                    b'"\xff"', b'"\xc0\xaf"', b'"\xed\xa0\x80"', b"[1e400]",
                    '{}'.encode("utf-16-le"), b"[" * 5000 + b"]" * 5000):
            with self.assertRaises((ValueError, RecursionError), msg=bad):
                ref.parse_json(bad)
        self.assertEqual(ref.parse_json(b'"\\ud83d\\ude00"'), "\U0001F600")  # a valid pair

    def test_numbers_as_common_parsers_read_them(self):
        self.assertIs(type(ref.parse_json(b"-0")), float)
        self.assertIs(type(ref.parse_json(b"18446744073709551616")), float)
        self.assertEqual(ref.parse_json(b"18446744073709551615"), 2**64 - 1)


class Roundtrip(Base):
    def test_hs256_mint_verify_and_exact_format(self):
        tok = ref.mint(KEYS, ISS, AUD, {"a": [1, None, "é"]}, NOW, sub=SUB, jti="J")
        h, c, s = tok.split(".")
        self.assertEqual(ref.b64d(h), b'{"alg":"HS256","typ":"tessera+jwt","kid":"hs-1"}')
        self.assertEqual(ref.b64d(c).decode(), '{"iss":"inventree","aud":"%s","sub":"user:42",'
                         '"iat":%d,"exp":%d,"jti":"J","dat":{"a":[1,null,"é"]}}' % (AUD, NOW, NOW + 300))
        self.assertEqual(len(ref.b64d(s)), 32)
        self.assertEqual(verify(tok)["dat"], {"a": [1, None, "é"]})
        self.assertEqual(tok, token(ref.parse_json(ref.b64d(h)), ref.b64d(c)))

    def test_defaults_jti_nbf_fpr(self):
        tok = ref.mint(KEYS, ISS, AUD, None, NOW, nbf=NOW)
        c = json.loads(ref.b64d(tok.split(".")[1]))
        self.assertEqual(list(c), ["iss", "aud", "iat", "exp", "jti", "dat"])  # nbf == iat omitted
        self.assertEqual(len(c["jti"]), 22)
        self.assertEqual(len(ref.b64d(c["jti"])), 16)
        tok = ref.mint(KEYS, ISS, AUD, None, NOW, nbf=NOW + 60, fpr="f" * 128)
        c = json.loads(ref.b64d(tok.split(".")[1]))
        self.assertEqual(list(c), ["iss", "aud", "iat", "nbf", "exp", "jti", "fpr", "dat"])
        self.assertEqual(verify(tok, now=NOW + 30, sub=None)["dat"], None)
        self.assertCode("not_yet_valid", tok, now=NOW + 29, sub=None)

    @unittest.skipUnless(HAVE_ED, "cryptography not importable")
    def test_eddsa_mint_verify_and_rfc8037_a4(self):
        ks = ref.load_key_set({"keys": [ed_jwk()], "active": "ed-1"})
        tok = ref.mint(ks, ISS, AUD, [1, 2], NOW, sub=SUB)
        self.assertEqual(len(ref.b64d(tok.split(".")[2])), 64)
        self.assertEqual(verify(tok, keys=ks)["dat"], [1, 2])
        verify_only = ref.load_key_set({"keys": [ed_jwk(private=False)]})
        self.assertEqual(verify(tok, keys=verify_only)["dat"], [1, 2])
        self.assertEqual(verify(ed_token(header(alg="EdDSA", kid="ed-1"), claims()))["dat"]["item"], 7)
        # Ed25519 is deterministic: the RFC 8037 A.4 signature is reproduced exactly.
        sig = ref._sign(ks.keys["ed-1"], b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc")
        self.assertEqual(b64(sig), "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iyl"
                                   "Gjg5BhVsPt9g7sVvpAr_MuM0KAg")

    def test_rotation_and_retirement(self):
        old = ref.load_key_set({"keys": [hs_jwk("hs-0", OLD_SECRET)], "active": "hs-0"})
        tok = ref.mint(old, ISS, AUD, 1, NOW, sub=SUB)
        rotated = ref.load_key_set({"keys": [hs_jwk("hs-0", OLD_SECRET), hs_jwk()], "active": "hs-1"})
        self.assertEqual(verify(tok, keys=rotated)["dat"], 1)
        self.assertIn('"kid":"hs-1"', ref.b64d(ref.mint(rotated, ISS, AUD, 1, NOW).split(".")[0]).decode())
        retired = ref.load_key_set({"keys": [hs_jwk()], "active": "hs-1"})
        self.assertCode("unknown_key", tok, keys=retired)

    def test_key_set_caps(self):
        many = [hs_jwk(f"k{i}", i.to_bytes(8, "big") + SECRET[8:]) for i in range(ref.MAX_KEYS + 1)]
        self.assertEqual(len(ref.load_key_set({"keys": many[:-1]}).keys), ref.MAX_KEYS)
        with self.assertRaises(ref.TesseraError) as e:
            ref.load_key_set({"keys": many})
        self.assertEqual(e.exception.code, "invalid_key")
        doc = json.dumps({"keys": [hs_jwk()]})
        at_cap = doc + " " * (ref.MAX_KEY_SET_BYTES - len(doc))
        self.assertEqual(len(ref.load_key_set(at_cap).keys), 1)
        for over in (at_cap + " ", (at_cap + " ").encode()):
            with self.assertRaises(ref.TesseraError) as e:
                ref.load_key_set(over)
            self.assertEqual(e.exception.code, "invalid_key")

    def test_public_export(self):
        doc = ref.public_jwks(KEYS)
        self.assertEqual(doc, {"keys": [ed_jwk(private=False)]})
        self.assertEqual(ref.public_jwks(ref.load_key_set({"keys": [hs_jwk()]})), {"keys": []})
        self.assertEqual(ref.public_jwks(SEALING_KEYS), {"keys": []})  # sealing keys are secret too
        self.assertNotIn(str(ENC_KEY), repr(SEALING_KEYS))
        self.assertNotIn("secret", repr(KEYS.keys["hs-1"]))
        self.assertNotIn(str(SECRET), repr(KEYS))


    def test_published_key_set_holds_eddsa_public_keys_only(self):
        loaded = ref.load_public_jwks(ref.public_jwks(KEYS))
        self.assertEqual(list(loaded.keys), ["ed-1"])
        self.assertIsNone(loaded.active)
        self.assertEqual(ref.load_public_jwks({"keys": []}).keys, {})
        for doc in ({"keys": [hs_jwk()]},                      # an HMAC secret
                    {"keys": [ed_jwk(private=True)]},          # a private key
                    {"keys": [ed_jwk(private=False)], "active": "ed-1"}):
            with self.assertRaises(ref.TesseraError) as caught:
                ref.load_public_jwks(doc)
            self.assertEqual(caught.exception.code, "invalid_key")
            self.assertNotIn(str(SECRET), str(caught.exception))

class Steps(Base):
    def test_valid(self):
        self.assertEqual(verify(token())["dat"], {"item": 7, "qty": 2.5})
        self.assertEqual(verify(token(), sub=None)["iss"], ISS)
        self.assertEqual(verify(token(c=claims(sub=DROP)), sub=None)["aud"], AUD)
        self.assertEqual(verify(token(c=claims(dat=None)))["dat"], None)
        self.assertEqual(verify(token(c=claims(fpr="x")))["fpr"], "x")
        self.assertEqual(verify(token().encode())["jti"], "AAAAAAAAAAAAAAAAAAAAAA")
        # Whitespace between JSON tokens is allowed; the signature covers the exact bytes.
        self.assertEqual(verify(token(c=json.dumps(claims(), indent=1)))["dat"]["item"], 7)
        self.assertEqual(verify(token(c=claims(iat=0, exp=1)), now=1)["iat"], 0)
        self.assertEqual(verify(token(c=claims(iat=253402300000, exp=253402300799)), now=253402300500)["exp"],
                         253402300799)

    def test_step1_too_large_before_decoding(self):
        self.assertCode("too_large", "!" * 8193)
        tok = token(c=claims(dat="x" * 6000))
        self.assertGreater(len(tok), 8192)
        self.assertCode("too_large", tok)
        small = token()
        self.assertEqual(verify(small, max_len=len(small))["iss"], ISS)
        self.assertCode("too_large", small, max_len=len(small) - 1)
        self.assertCode("invalid_config", small, max_len=0)  # §5.1: a cap of at least 1 byte
        self.assertCode("malformed", "é" * 4096)   # 8192 bytes: within the cap
        self.assertCode("too_large", "é" * 4097)   # the cap counts bytes, not characters

    def test_step2_compact_form(self):
        h, c, s = token().split(".")
        for bad in ("", "..", f"{h}.{c}", f"{h}.{c}.{s}.{s}", f"{h}.{c}.{s}.", f"{h}..{s}", f".{c}.{s}",
                    f"{h}.{c}.", f"{h}.{c}.{s}=", f"{h}.{c}.{s} ", f" {h}.{c}.{s}", f"{h}.{c}.{s}\n",
                    f"{h}.{c}\n.{s}", f"{h}.{c}.{s[:-1]}+", f"{h}.{c}.{s[:-1]}/",
                    f"{h}.{c}.{s}AA", f"{h}.{c}.{s[:-1]}é", f"{h}.{c}.{s}\x00", '{"alg":"none"}..'):
            self.assertCode("malformed", bad)
        # Non-canonical tail bits: decodes to the same bytes with a lenient decoder.
        last = s[-1]
        tweaked = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        alt = tweaked[tweaked.index(last) + 1]
        self.assertEqual(base64.urlsafe_b64decode(s[:-1] + alt + "="), base64.urlsafe_b64decode(s + "="))
        self.assertCode("malformed", f"{h}.{c}.{s[:-1]}{alt}")
        padded = b64(b"\x01\x02")  # a 3-character segment; its padded form is refused
        self.assertCode("malformed", f"{h}.{c}.{padded}=")

    def test_step3_header_shape(self):
        raw = '{"alg":"HS256","typ":"tessera+jwt","kid":"hs-1"'
        for h in [raw + ',"alg":"HS256"}', raw + ',"kid":"hs-1"}', raw + "}x", raw, "[]", '"x"', "null",
                  header(kid=DROP), header(alg=DROP), header(typ=DROP), header(kid=1), header(alg=None),
                  header(typ=["tessera+jwt"]), header(kid={"k": 1}), b"\xef\xbb\xbf" + (raw + "}").encode(),
                  (raw + "}").encode("utf-16-le"), b'{"alg":"HS256","typ":"tessera+jwt","kid":"\xff"}',
                  b'{"alg":"HS256","typ":"tessera+jwt","kid":"\xc0\xaf"}', raw + ',"x":NaN}',
                  '{"alg":"HS256","typ":"tessera+jwt","kid":"\\ud800"}']:
            self.assertCode("malformed", token(h=h))
        for member, value in [("crit", ["exp"]), ("jwk", ed_jwk(private=False)), ("jku", "http://127.0.0.1/"),
                              ("x5u", "http://127.0.0.1/"), ("x5c", ["MII"]), ("x5t", "x"), ("cty", "JWT"),
                              ("b64", False), ("zip", "DEF"), ("enc", "A256GCM"), ("kid2", "x")]:
            self.assertCode("malformed", token(h={**header(), member: value}))

    def test_step4_typ(self):
        for typ in ("JWT", "jwt", "Tessera+JWT", "tessera+jwt ", "application/tessera+jwt", "", "tessera+jws"):
            self.assertCode("malformed", token(h=header(typ=typ)))
        self.assertCode("malformed", token(h=header(typ="JWT", kid="nope")))  # step 4 before step 5

    def test_step5_unknown_key(self):
        for kid in ("nope", "HS-1", "hs-1 ", " hs-1", "hs-1\u0000", "", "k" * 65, "../hs-1", "hs-1' OR 1=1"):
            self.assertCode("unknown_key", token(h=header(kid=kid)))
        self.assertCode("unknown_key", token(h=header(kid="nope", alg="none"), sig=b"x"))  # 5 before 6

    def test_step6_algorithm(self):
        for alg in ("none", "None", "NONE", "nOnE", "HS384", "HS512", "RS256", "ES256", "PS256",
                    "hs256", " HS256", "HS256 ", "", "EdDSA", "Ed25519"):
            self.assertCode("unsupported_algorithm", token(h=header(alg=alg)))
        self.assertCode("unsupported_algorithm", token(h='{"alg":"\\u006eone","typ":"tessera+jwt","kid":"hs-1"}'))
        self.assertCode("malformed", token(h=header(alg="none"), sig=""))  # empty segment: step 2
        # HS512 with the HS256 secret, and HS256 signed with the Ed25519 public key as its secret.
        si = seg(header(alg="HS512")) + "." + seg(claims())
        self.assertCode("unsupported_algorithm", si + "." + b64(hmac.new(SECRET, si.encode(), "sha512").digest()))
        ed_pub = base64.urlsafe_b64decode(ED_X + "=")
        for secret in (ed_pub, ED_X.encode()):
            self.assertCode("unsupported_algorithm", token(h=header(kid="ed-1"), secret=secret))
        self.assertCode("unsupported_algorithm", token(h=header(alg="EdDSA")))  # EdDSA under an HMAC kid

    def test_step7_signature(self):
        good = token()
        h, c, s = good.split(".")
        sig = bytearray(ref.b64d(s))
        sig[0] ^= 1
        self.assertCode("bad_signature", f"{h}.{c}.{b64(bytes(sig))}")
        for secret in (OLD_SECRET, b"secret", b"", b"password", b"hs-1", SECRET[:16],
                       SECRET.hex().encode(), b64(SECRET).encode()):
            self.assertCode("bad_signature", token(secret=secret))
        real = ref.b64d(s)
        for forged in (real[:16], real + b"\x00", b"\x00" * 32, b"\x00"):
            self.assertCode("bad_signature", f"{h}.{c}.{b64(forged)}")
        other = token(c=claims(aud="plugin:stock-tools/action:print")).split(".")[2]
        self.assertCode("bad_signature", f"{h}.{c}.{other}")
        # The signature is checked before the claims are even parsed (step 7 before 8, 9, 13).
        for c_bad in ('{"iat":1,"iat":1}', claims(exp=1), claims(iss="evil"), "not json"):
            self.assertCode("bad_signature", token(c=c_bad, secret=OLD_SECRET))

    @unittest.skipUnless(HAVE_ED, "cryptography not importable")
    def test_step7_eddsa(self):
        tok = ed_token(header(alg="EdDSA", kid="ed-1"), claims())
        h, c, s = tok.split(".")
        raw = ref.b64d(s)
        order = 2**252 + 27742317777372353535851937790883648493
        s_plus_l = raw[:32] + (int.from_bytes(raw[32:], "little") + order).to_bytes(32, "little")
        for forged in (b"\x00" * 64, raw[:63], raw + b"\x00", s_plus_l, bytes([raw[0] ^ 1]) + raw[1:]):
            self.assertCode("bad_signature", f"{h}.{c}.{b64(forged)}")

    def test_step8_claims(self):
        bad = [claims(iat=DROP), claims(exp=DROP), claims(jti=DROP), claims(dat=DROP), claims(admin=True),
               claims(iat=1.0 * (NOW - 10)), claims(exp=float(NOW + 290)), claims(iat=str(NOW - 10)),
               claims(iat=True), claims(exp=None), claims(iat=-1), claims(exp=253402300800),
               claims(exp=NOW - 10), claims(exp=NOW - 11), claims(nbf=None), claims(nbf=NOW + 0.5),
               claims(fpr=""), claims(fpr="f" * 129), claims(fpr="é" * 65), claims(fpr=1), claims(jti=1),
               claims(sub=42), claims(sub=None), claims(jti=None), [claims()], "null", '"x"', "1",
               f'{{"iss":"{ISS}","aud":"{AUD}","iat":{NOW},"exp":{NOW + 60},"jti":"j","dat":1,"dat":1}}',
               f'{{"iss":"{ISS}","iss":"{ISS}","aud":"{AUD}","iat":{NOW},"exp":{NOW + 60},"jti":"j","dat":1}}',
               f'{{"aud":"{AUD}","iat":1.79e9,"exp":{NOW + 60},"jti":"j","dat":1}}',
               f'{{"aud":"{AUD}","iat":{NOW}E0,"exp":{NOW + 60},"jti":"j","dat":1}}',
               f'{{"aud":"{AUD}","iat":-0,"exp":{NOW + 60},"jti":"j","dat":1}}',
               f'{{"aud":"{AUD}","iat":{NOW},"exp":{NOW + 60}.0,"jti":"j","dat":1}}',
               f'{{"aud":"{AUD}","iat":{NOW},"exp":99999999999999999999999,"jti":"j","dat":1}}',
               f'{{"aud":"{AUD}","iat":{NOW},"exp":+{NOW + 60},"jti":"j","dat":1}}',
               f'{{"aud":"{AUD}","iat":0{NOW},"exp":{NOW + 60},"jti":"j","dat":1}}']
        dat_text = f'{{"iss":"{ISS}","aud":"{AUD}","iat":{NOW},"exp":{NOW + 60},"jti":"j","dat":%s}}'
        for dat in ('{"a":{"b":[{"c":1,"c":2}]}}', "NaN", "[Infinity]", "-Infinity", "1e400", '"\\ud800"',
                    '{"\\udc00":1}', '"a\\ud83d"', '"\x01"', "[1,]", "01", "'x'", "[" * 2000 + "]" * 2000):
            bad.append(dat_text % dat)
        for c in bad:
            self.assertCode("malformed", token(c=c), sub=None)
        for raw in (b"\xef\xbb\xbf" + json.dumps(claims()).encode(), json.dumps(claims()).encode("utf-16-le"),
                    json.dumps(claims()).encode()[:-1] + b',"x":"\xc0\xaf"}',
                    json.dumps(claims()).encode()[:-1] + b',"x":"\xff"}'):
            self.assertCode("malformed", token(c=raw))
        # Floats, nesting, negatives and a valid surrogate pair are fine inside dat.
        ok = verify(token(c=dat_text % '[1.5,-3,1e3,{"\\ud83d\\ude00":[[[]]]},"\\u00e9",-0,true]'), sub=None)
        self.assertEqual(json.dumps(ok["dat"]), '[1.5, -3, 1000.0, {"\\ud83d\\ude00": [[[]]]}, "\\u00e9", -0.0, true]')

    def test_step8_claims_nested_deeper_than_64_are_malformed(self):
        def nested(levels):
            text = "0"
            for level in reversed(range(levels)):
                text = f'{{"n":{text}}}' if level % 2 == 0 else f"[{text}]"
            return text
        dat_text = f'{{"iss":"{ISS}","aud":"{AUD}","iat":{NOW},"exp":{NOW + 60},"jti":"j","dat":%s}}'
        ok = verify(token(c=dat_text % nested(63)), sub=None)  # the claims are 64 deep
        self.assertEqual(ok["dat"], json.loads(nested(63)))
        self.assertCode("malformed", token(c=dat_text % nested(64)), sub=None)
        iss_text = f'{{"iss":%s,"aud":"{AUD}","iat":{NOW},"exp":{NOW + 60},"jti":"j","dat":1}}'
        self.assertCode("wrong_issuer", token(c=iss_text % nested(63)), sub=None)
        self.assertCode("malformed", token(c=iss_text % nested(64)), sub=None)
        keys = ref.load_key_set({"keys": [{"kty": "oct", "kid": "k1", "alg": "HS256", "k": b64(SECRET)}],
                                 "active": "k1"})
        ref.mint(keys, ISS, AUD, json.loads(nested(63)), NOW)
        with self.assertRaises(TesseraError) as e:
            ref.mint(keys, ISS, AUD, json.loads(nested(64)), NOW)
        self.assertEqual(e.exception.code, "bad_payload")

    def test_step9_expired(self):
        tok = token()  # exp = NOW + 290, leeway 30
        self.assertEqual(verify(tok, now=NOW + 319)["iss"], ISS)
        self.assertCode("expired", tok, now=NOW + 320)
        self.assertCode("expired", token(c=claims(iss="evil", aud="x")), now=NOW + 320)  # 9 before 13
        self.assertCode("expired", token(c=claims(exp=NOW + 90000)), now=NOW + 90030)  # 9 before 12
        self.assertCode("expired", tok, now=NOW + 290, leeway=0)
        self.assertCode("invalid_config", tok, leeway=301)

    def test_step10_11_not_yet_valid(self):
        tok = token(c=claims(nbf=NOW + 100))
        self.assertEqual(verify(tok, now=NOW + 70)["iss"], ISS)
        self.assertCode("not_yet_valid", tok, now=NOW + 69)
        future = token(c=claims(iat=NOW + 100, exp=NOW + 400))
        self.assertEqual(verify(future, now=NOW + 70)["iss"], ISS)
        self.assertCode("not_yet_valid", future, now=NOW + 69)
        # nbf earlier than iat does not hide an iat in the future (step 11).
        self.assertCode("not_yet_valid", token(c=claims(nbf=NOW, iat=NOW + 100, exp=NOW + 400)))
        self.assertCode("not_yet_valid", token(c=claims(nbf=NOW + 100, exp=NOW + 200000)), now=NOW)  # 10 before 12

    def test_step12_lifetime(self):
        self.assertEqual(verify(token(c=claims(iat=NOW, exp=NOW + 86400)))["iss"], ISS)
        self.assertCode("lifetime_too_long", token(c=claims(iat=NOW, exp=NOW + 86401)))
        self.assertCode("lifetime_too_long", token(c=claims(exp=253402300799)))
        self.assertCode("lifetime_too_long", token(c=claims(iat=NOW, exp=NOW + 86401, iss="x")))  # 12 before 13
        self.assertEqual(verify(token(c=claims(iat=NOW, exp=NOW + 100000)), max_lifetime=100000)["iss"], ISS)

    def test_step13_issuer(self):
        for iss in (DROP, None, 5, [ISS], {"iss": ISS}, "Inventree", "inventree ", "inventree\u0000",
                    "inventre", "inventree.evil", "іnventree"):
            self.assertCode("wrong_issuer", token(c=claims(iss=iss, aud="other")))  # 13 before 14

    def test_step14_audience(self):
        for aud in (DROP, None, 1, [AUD], [AUD, "x"], "plugin:stock-tools/action:print",
                    "plugin:stock-tools/action:transfe", AUD + "/", AUD.upper()):
            self.assertCode("wrong_audience", token(c=claims(aud=aud, sub="user:1")))  # 14 before 15

    def test_step15_subject(self):
        self.assertCode("wrong_subject", token(c=claims(sub="user:43")))
        self.assertCode("wrong_subject", token(c=claims(sub=DROP)))
        self.assertCode("wrong_subject", token(c=claims(sub="user:42 ")))
        self.assertEqual(verify(token(c=claims(sub="user:43")), sub=None)["sub"], "user:43")
        # An anonymous caller may not use a token minted for somebody; a subject-less one is fine.
        self.assertCode("wrong_subject", token(c=claims(sub="user:43")), sub=None, anonymous=True)
        self.assertNotIn("sub", verify(token(c=claims(sub=DROP)), sub=None, anonymous=True))

    def test_step16_payload(self):
        tok = token()
        self.assertEqual(verify(tok, payload_check=lambda d: isinstance(d["item"], int))["dat"]["qty"], 2.5)
        self.assertCode("bad_payload", tok, payload_check=lambda d: isinstance(d, list))
        self.assertCode("bad_payload", tok, payload_check=lambda d: d["missing"])
        self.assertCode("wrong_subject", token(c=claims(sub="x")), payload_check=lambda d: False)  # 15 before 16


@unittest.skipUnless(HAVE_AES, "cryptography not importable")
class Sealed(Base):
    """Sealed tokens (JWE compact, dir + A256GCM): the deltas to the numbered steps."""

    def assertSealedCode(self, code, tok, keys=SEALING_KEYS, accept="sealed", **kw):
        return self.assertCode(code, tok, keys=keys, accept=accept, **kw)

    def test_mint_verify_and_exact_format(self):
        marker = "MARKER-internal-price-1234"
        tok = ref.mint(SEALING_KEYS, ISS, AUD, {"note": marker}, NOW, sub=SUB, jti="J", sealed=True)
        h, ek, iv, ct, tag = tok.split(".")
        self.assertEqual(ref.b64d(h), b'{"alg":"dir","enc":"A256GCM","typ":"tessera+jwt","kid":"enc-1"}')
        self.assertEqual((ek, len(ref.b64d(iv)), len(ref.b64d(tag))), ("", 12, 16))
        claims_json = ('{"iss":"inventree","aud":"%s","sub":"user:42","iat":%d,"exp":%d,"jti":"J",'
                       '"dat":{"note":"%s"}}' % (AUD, NOW, NOW + 300, marker)).encode()
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        self.assertEqual(AESGCM(ENC_KEY).decrypt(ref.b64d(iv), ref.b64d(ct) + ref.b64d(tag), h.encode()),
                         claims_json)  # the same claims JSON a signed token carries; AAD = segment 1
        self.assertEqual(verify(tok, keys=SEALING_KEYS, accept="sealed")["dat"], {"note": marker})
        # The payload is nowhere in the token, nor in any decoding of its segments.
        self.assertNotIn(marker, tok)
        for part in (h, iv, ct, tag):
            self.assertNotIn(marker.encode(), ref.b64d(part))
        # A fresh random nonce per token: the same claims seal differently.
        again = ref.mint(SEALING_KEYS, ISS, AUD, {"note": marker}, NOW, sub=SUB, jti="J", sealed=True)
        self.assertNotEqual(again.split(".")[2], iv)
        self.assertNotEqual(again, tok)

    def test_reproduces_the_rust_vector_byte_for_byte(self):
        case = next(c for c in ref.parse_json((run_vectors.DEFAULT_DIR / "sealed.json").read_bytes())["tests"]
                    if c["name"] == "SE-1")
        keys = ref.load_key_set(case["keys"])
        claims_json = open_by_hand(keys, case["token"])
        nonce = ref.b64d(case["token"].split(".")[2])
        with mock.patch.object(ref.secrets, "token_bytes", lambda n: nonce if n == 12 else None):
            tok = ref.mint(keys, case["iss"], case["aud"], case["payload"], case["now"], sub=case["sub"],
                           jti=json.loads(claims_json)["jti"], sealed=True)
        self.assertEqual(tok, case["token"])

    def test_step2_five_segments(self):
        good = sealed_token()
        h, _, iv, ct, tag = good.split(".")
        self.assertEqual(verify(good, keys=SEALING_KEYS, accept="sealed")["dat"]["item"], 7)
        for bad in (f"{h}.AAAA.{iv}.{ct}.{tag}",            # an encrypted key: not alg dir
                    f"{h}..{b64(IV + b'xxxx')}.{ct}.{tag}",   # 16-byte IV
                    f"{h}..{b64(IV[:11])}.{ct}.{tag}",        # 11-byte IV
                    f"{h}..{iv}.{ct}.{tag[:-2]}",             # 15-byte tag
                    f"{h}..{iv}.{ct}.{tag}AA",                # 18-byte tag
                    f"{h}..{iv}..{tag}", f"..{iv}.{ct}.{tag}", f"{h}...{ct}.{tag}", f"{h}..{iv}.{ct}.",
                    f"{h}..{iv}.{ct}", f"{h}..{iv}.{ct}.{tag}.", f"{h}..{iv}.{ct}.{tag}.{tag}",
                    f"{h}..{iv}.{ct}={tag}", f"{h}..{iv}.{ct}.{tag}=", f"{h}..{iv[:-1]}+.{ct}.{tag}", "...."):
            self.assertSealedCode("malformed", bad)

    def test_step3_protected_header(self):
        for h in (sealed_header(enc=DROP), sealed_header(zip="DEF"), sealed_header(cty="JWT"),
                  sealed_header(crit=["exp"]), sealed_header(enc=None), sealed_header(enc=1),
                  sealed_header(kid=DROP), sealed_header(epk={"kty": "OKP"}), sealed_header(p2s="x"),
                  '{"alg":"dir","enc":"A256GCM","enc":"A256GCM","typ":"tessera+jwt","kid":"enc-1"}',
                  sealed_header(typ="JWT"), sealed_header(typ="tessera+jwe")):
            self.assertSealedCode("malformed", sealed_token(h=h))
        # A signed token's header never has enc (test_step3_header_shape covers it too).
        self.assertCode("malformed", token(h=header(enc="A256GCM")), keys=SEALING_KEYS, accept="either")

    def test_route_kinds(self):
        sealed, signed = sealed_token(), token()
        for accept in ("sealed", "either"):
            self.assertEqual(verify(sealed, keys=SEALING_KEYS, accept=accept)["dat"]["item"], 7)
        for accept in ("signed", "either"):
            self.assertEqual(verify(signed, keys=SEALING_KEYS, accept=accept)["dat"]["item"], 7)
        self.assertEqual(verify(signed, keys=SEALING_KEYS)["iss"], ISS)  # "signed" is the default
        self.assertSealedCode("malformed", sealed, accept="signed")
        self.assertSealedCode("malformed", signed, accept="sealed")
        # The kind is checked right after the header, before the kid lookup (step 5).
        self.assertSealedCode("malformed", sealed_token(h=sealed_header(kid="nope")), accept="signed")
        self.assertSealedCode("malformed", token(h=header(kid="nope")), accept="sealed")
        for accept in ("both", "SEALED", None, ""):
            self.assertSealedCode("invalid_config", sealed, accept=accept)

    def test_step5_unknown_key(self):
        self.assertSealedCode("unknown_key", sealed_token(h=sealed_header(kid="enc-9")))
        unknown = sealed_token(h=sealed_header(kid="enc-9", enc="A128GCM"))
        self.assertSealedCode("unknown_key", unknown)  # step 5 before step 6
        retired = ref.load_key_set({"keys": [enc_jwk()], "active_sealing": "enc-1"})
        self.assertSealedCode("unknown_key", sealed_token(h=sealed_header(kid="enc-0"), key=OLD_ENC_KEY),
                              keys=retired)

    def test_step6_the_key_decides(self):
        for h in (sealed_header(enc="A128GCM"), sealed_header(enc="A256CBC-HS512"), sealed_header(enc="a256gcm"),
                  sealed_header(alg="A256KW"), sealed_header(alg="none"), sealed_header(alg="Dir"),
                  sealed_header(alg="dir ")):
            self.assertSealedCode("unsupported_algorithm", sealed_token(h=h))
        # A sealed header naming a signing key (sealed with that key's bytes) ...
        self.assertSealedCode("unsupported_algorithm", sealed_token(h=sealed_header(kid="hs-1"), key=SECRET))
        # ... and a signed header naming the sealing key (MACed with its bytes), whatever alg it says.
        for alg in ("HS256", "A256GCM", "dir", "EdDSA"):
            self.assertSealedCode("unsupported_algorithm", token(h=header(alg=alg, kid="enc-1"), secret=ENC_KEY),
                                  accept="either")

    def test_step7_any_decryption_failure_is_bad_signature(self):
        good = sealed_token()
        parts = good.split(".")

        def flipped(index, at=0):
            data = bytearray(ref.b64d(parts[index]))
            data[at] ^= 1
            return ".".join(parts[:index] + [b64(bytes(data))] + parts[index + 1:])

        for index in (2, 3, 4):  # IV, ciphertext, tag
            self.assertSealedCode("bad_signature", flipped(index))
            self.assertSealedCode("bad_signature", flipped(index, at=-1))
        reordered = seg({"typ": "tessera+jwt", "alg": "dir", "enc": "A256GCM", "kid": "enc-1"})
        spaced = seg('{"alg":"dir", "enc":"A256GCM","typ":"tessera+jwt","kid":"enc-1"}')
        for h in (reordered, spaced):  # the same header, other bytes: the AAD differs
            self.assertSealedCode("bad_signature", ".".join([h] + parts[1:]))
        ct = ref.b64d(parts[3])
        for body in (ct[:-1], ct + b"\x00", ref.b64d(sealed_token(c=claims(aud="x")).split(".")[3])):
            self.assertSealedCode("bad_signature", ".".join(parts[:3] + [b64(body)] + parts[4:]))
        for key in (OLD_ENC_KEY, SECRET, bytes(32), ENC_KEY[:31] + b"\x00"):
            self.assertSealedCode("bad_signature", sealed_token(key=key))
        # Decryption comes before the claims are parsed (7 before 8, 9, 13).
        for c in ('{"iat":1,"iat":1}', "not json", claims(exp=1), claims(iss="evil")):
            self.assertSealedCode("bad_signature", sealed_token(c=c, key=OLD_ENC_KEY))

    def test_steps_8_to_16_on_the_plaintext(self):
        for c in ('{"iat":1,"iat":1}', "not json", claims(admin=True), claims(exp=NOW - 10), claims(iat=1.5),
                  claims(fpr=""), json.dumps(claims())[:-1] + ',"dat":{"a":1,"a":2}}'):
            self.assertSealedCode("malformed", sealed_token(c=c), sub=None)
        self.assertSealedCode("expired", sealed_token(), now=NOW + 320)
        self.assertSealedCode("not_yet_valid", sealed_token(c=claims(nbf=NOW + 100)))
        self.assertSealedCode("lifetime_too_long", sealed_token(c=claims(exp=NOW + 86400)))
        self.assertSealedCode("wrong_issuer", sealed_token(c=claims(iss="other")))
        self.assertSealedCode("wrong_audience", sealed_token(c=claims(aud=[AUD])))
        self.assertSealedCode("wrong_subject", sealed_token(c=claims(sub="user:1")))
        self.assertSealedCode("bad_payload", sealed_token(), payload_check=lambda d: d["missing"])
        fpr = verify(sealed_token(c=claims(fpr="v7")), keys=SEALING_KEYS, accept="sealed")["fpr"]
        self.assertEqual(fpr, "v7")

    def test_errors_do_not_disclose_the_sealed_times(self):
        # Spec §6: messages MUST NOT contain the plaintext of a sealed token. Its exp, iat
        # and lifetime are plaintext (the Rust verifier withholds them, sealed.rs
        # a_sealed_tokens_errors_do_not_disclose_its_times_or_payload_positions).
        iat, exp = NOW - 10, NOW + 290
        tok = sealed_token(c=claims(iat=iat, exp=exp))
        errors = [self.assertSealedCode("expired", tok, now=NOW + 400),
                  self.assertSealedCode("lifetime_too_long", tok, max_lifetime=60)]
        for e in errors:
            for secret in (str(exp), str(iat), f"{exp - iat}s"):
                self.assertNotIn(secret, e.message, e.code)

    def test_length_cap_counts_the_whole_token(self):
        tok = ref.mint(SEALING_KEYS, ISS, AUD, "x" * 5000, NOW, sealed=True)
        self.assertEqual(verify(tok, keys=SEALING_KEYS, accept="sealed", sub=None)["dat"], "x" * 5000)
        self.assertSealedCode("too_large", tok, max_len=len(tok) - 1)
        with self.assertRaises(TesseraError) as cm:
            ref.mint(SEALING_KEYS, ISS, AUD, "x" * 6200, NOW, sealed=True)
        self.assertEqual(cm.exception.code, "too_large")

    def test_rotation_of_sealing_keys(self):
        old = ref.load_key_set({"keys": [enc_jwk("enc-0", OLD_ENC_KEY)], "active_sealing": "enc-0"})
        tok = ref.mint(old, ISS, AUD, 1, NOW, sub=SUB, sealed=True)
        self.assertEqual(verify(tok, keys=SEALING_KEYS, accept="sealed")["dat"], 1)
        new = ref.mint(SEALING_KEYS, ISS, AUD, 1, NOW, sealed=True)
        self.assertIn(b'"kid":"enc-1"', ref.b64d(new.split(".")[0]))
        # Signing still uses "active", sealing "active_sealing".
        self.assertIn(b'"kid":"hs-1"', ref.b64d(ref.mint(SEALING_KEYS, ISS, AUD, 1, NOW).split(".")[0]))


def open_by_hand(keys, tok):
    """The plaintext of a sealed token, opened by hand with `cryptography`'s AESGCM."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    h, _, iv, ct, tag = tok.split(".")
    key = keys.keys[json.loads(ref.b64d(h))["kid"]].secret
    return AESGCM(key).decrypt(ref.b64d(iv), ref.b64d(ct) + ref.b64d(tag), h.encode())


class Keys(unittest.TestCase):
    def assertInvalid(self, src):
        with self.assertRaises(TesseraError) as cm:
            ref.load_key_set(src)
        self.assertEqual(cm.exception.code, "invalid_key")
        self.assertNotIn(b64(SECRET), str(cm.exception))

    def test_valid_sets(self):
        self.assertEqual(ref.load_key_set(json.dumps(key_set_json())).active, "hs-1")
        self.assertIsNone(ref.load_key_set({"keys": []}).active)
        no_use = {k: v for k, v in hs_jwk().items() if k != "use"}
        self.assertEqual(ref.load_key_set({"keys": [no_use]}).keys["hs-1"].alg, "HS256")
        self.assertEqual(set(ref.load_key_set({"keys": [hs_jwk("a" * 64), hs_jwk("A._-9")]}).keys),
                         {"a" * 64, "A._-9"})

    def test_sealing_keys(self):
        ks = ref.load_key_set(json.dumps(sealing_set_json()))
        self.assertEqual((ks.active, ks.active_sealing), ("hs-1", "enc-1"))
        self.assertEqual((ks.keys["enc-1"].alg, ks.keys["enc-1"].secret), ("A256GCM", ENC_KEY))
        self.assertTrue(ks.keys["enc-1"].can_seal and not ks.keys["enc-1"].can_sign)
        self.assertFalse(ks.keys["hs-1"].can_seal)
        no_use = {k: v for k, v in enc_jwk().items() if k != "use"}
        self.assertIsNone(ref.load_key_set({"keys": [no_use]}).active_sealing)  # verify-only is fine
        self.assertEqual(ref.load_key_set({"keys": [enc_jwk()], "active_sealing": "enc-1"}).active, None)

    def test_refused(self):
        no_alg = hs_jwk()
        del no_alg["alg"]
        for src in ("not json", "[]", "{}", '{"keys":{}}', '{"keys":[],"keys":[]}', {"keys": [], "extra": 1},
                    {"keys": [hs_jwk(secret=SECRET[:31])]}, {"keys": [hs_jwk(secret=b"")]}, {"keys": [no_alg]},
                    {"keys": [hs_jwk(alg="EdDSA")]}, {"keys": [hs_jwk(alg="HS512")]}, {"keys": [hs_jwk(use="enc")]},
                    {"keys": [hs_jwk(kid="")]}, {"keys": [hs_jwk(kid="a" * 65)]}, {"keys": [hs_jwk(kid="a b")]},
                    {"keys": [hs_jwk(kid="é")]}, {"keys": [hs_jwk(kid=None)]}, {"keys": [hs_jwk(k=b64(SECRET) + "=")]},
                    {"keys": [hs_jwk(k=b64(SECRET)[:-1] + "B")]}, {"keys": [hs_jwk(kty=["oct"])]},
                    {"keys": [hs_jwk(x=ED_X)]}, {"keys": [hs_jwk(), hs_jwk()]}, {"keys": [hs_jwk()], "active": "nope"},
                    {"keys": [hs_jwk()], "active": 1}, {"keys": [ed_jwk(private=False)], "active": "ed-1"},
                    {"keys": [ed_jwk(crv="X25519")]}, {"keys": [ed_jwk(alg="HS256")]}, {"keys": [ed_jwk(x=ED_X[:-2])]},
                    {"keys": [ed_jwk(d=ED_D[:-2])]}, {"keys": [ed_jwk(k=b64(SECRET))]}, {"keys": ["x"]},
                    # sealing keys: exactly 32 bytes, use "enc", kty oct, named by active_sealing only
                    {"keys": [enc_jwk(key=ENC_KEY[:16])]}, {"keys": [enc_jwk(key=ENC_KEY[:31])]},
                    {"keys": [enc_jwk(key=ENC_KEY + b"x")]}, {"keys": [enc_jwk(key=ENC_KEY * 2)]},
                    {"keys": [enc_jwk(use="sig")]}, {"keys": [enc_jwk(kty="OKP", crv="Ed25519")]},
                    {"keys": [enc_jwk(alg="A128GCM")]}, {"keys": [enc_jwk(alg="dir")]}, {"keys": [enc_jwk(x=ED_X)]},
                    {"keys": [enc_jwk(k=b64(ENC_KEY) + "=")]}, {"keys": [enc_jwk()], "active": "enc-1"},
                    {"keys": [hs_jwk()], "active_sealing": "hs-1"}, {"keys": [enc_jwk()], "active_sealing": "nope"},
                    {"keys": [enc_jwk()], "active_sealing": 1}, {"keys": [enc_jwk(), enc_jwk()]},
                    {"keys": [enc_jwk(kid="hs-1"), hs_jwk()]}):
            self.assertInvalid(src)

    def test_small_order_x_and_public_key_secrets(self):
        p = 2**255 - 19
        order8 = 0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826
        for y in (0, 1, order8, p - order8, p - 1, p, p + 1):
            for sign in (0, 1 << 255):
                x = b64((y | sign).to_bytes(32, "little"))
                self.assertInvalid({"keys": [ed_jwk(private=False, x=x)]})
        # Not a point at all (y = p + 18): loads, and verifies nothing (spec 3.2).
        ref.load_key_set({"keys": [ed_jwk(private=False, x=b64(b"\xff" * 32))]})
        # An HS256 secret equal to a public key of the set, as bytes or as its text.
        x = base64.urlsafe_b64decode(ED_X + "=")
        for secret in (x, ED_X.encode()):
            self.assertInvalid({"keys": [ed_jwk(private=False), hs_jwk(secret=secret)]})
            self.assertInvalid({"keys": [hs_jwk(secret=secret), ed_jwk(private=False)]})

    @unittest.skipUnless(HAVE_ED, "cryptography not importable")
    def test_d_must_derive_x(self):
        self.assertInvalid({"keys": [ed_jwk(x=b64(bytes(32)))]})

    def test_mint_refusals(self):
        for kw, code in [({"ttl": 0}, "invalid_config"), ({"ttl": -5}, "invalid_config"),
                         ({"ttl": 86401}, "lifetime_too_long"), ({"dat": "x" * 7000}, "too_large"),
                         ({"nbf": NOW - 1}, "invalid_config"), ({"nbf": NOW + 300}, "invalid_config"),
                         ({"fpr": ""}, "invalid_config"), ({"fpr": "é" * 65}, "invalid_config"),
                         ({"dat": float("nan")}, "bad_payload"), ({"dat": "\ud800"}, "bad_payload"),
                         ({"dat": {1: 1, "1": 2}}, "bad_payload"), ({"dat": object()}, "bad_payload"),
                         ({"now": 253402300700}, "invalid_config"),  # exp after 9999-12-31
                         ({"now": 253402300800}, "invalid_config"),
                         ({"max_len": 0}, "invalid_config"), ({"max_lifetime": 0}, "invalid_config"),
                         ({"max_len": 8192.0}, "invalid_config"), ({"iss": ""}, "invalid_config"),
                         ({"aud": ""}, "invalid_config"), ({"sub": ""}, "invalid_config")]:
            args = {"dat": None, "now": NOW, "iss": ISS, "aud": AUD, **kw}
            with self.assertRaises(TesseraError, msg=kw) as cm:
                ref.mint(KEYS, **args)
            self.assertEqual(cm.exception.code, code)
        for ks, sealed in ((ref.load_key_set({"keys": [hs_jwk()]}), False),
                           (KEYS, True),  # no active sealing key
                           (ref.load_key_set({"keys": [enc_jwk()], "active_sealing": "enc-1"}), False)):
            with self.assertRaises(TesseraError, msg=sealed) as cm:
                ref.mint(ks, ISS, AUD, None, NOW, sealed=sealed)
            self.assertEqual(cm.exception.code, "invalid_key")
        for kw in ({"now": 1.5}, {"now": True}, {"iss": None}, {"now": -1}):
            args = {"dat": None, "now": NOW, "iss": ISS, **kw}
            with self.assertRaises(ValueError, msg=kw):
                ref.mint(KEYS, aud=AUD, **args)

    def test_without_cryptography(self):
        with mock.patch.object(ref, "_ed25519", None):
            ks = ref.load_key_set(key_set_json())  # EdDSA keys still load (d unchecked)
            self.assertEqual(verify(token(), keys=ks)["iss"], ISS)
            self.assertRaises(ref.EdDSAUnavailable, verify, token(h=header(alg="EdDSA", kid="ed-1")), keys=ks)
            self.assertRaises(ref.EdDSAUnavailable, ref.mint, ref.load_key_set(key_set_json("ed-1")),
                              ISS, AUD, None, NOW)
            with self.assertRaises(TesseraError):  # errors before step 7 need no EdDSA
                verify(token(h=header(kid="ed-1")), keys=ks)

    @unittest.skipUnless(HAVE_AES, "cryptography not importable")
    def test_sealing_without_cryptography(self):
        tok = sealed_token()
        with mock.patch.object(ref, "_AESGCM", None):
            self.assertEqual(ref.unavailable_features(), ["sealed"] if HAVE_ED else ["EdDSA", "sealed"])
            ks = ref.load_key_set(sealing_set_json())  # sealing keys still load, lengths checked
            self.assertRaises(ref.SealingUnavailable, verify, tok, keys=ks, accept="sealed")
            self.assertRaises(ref.SealingUnavailable, ref.mint, ks, ISS, AUD, None, NOW, sealed=True)
            self.assertEqual(verify(token(), keys=ks)["iss"], ISS)  # HS256 unaffected
            for bad, code in ((tok, "malformed"), (sealed_token(h=sealed_header(kid="x")), "unknown_key"),
                              (sealed_token(h=sealed_header(enc="A128GCM")), "unsupported_algorithm")):
                with self.assertRaises(TesseraError) as cm:  # errors before step 7 need no AES
                    verify(bad, keys=ks, accept="signed" if code == "malformed" else "sealed")
                self.assertEqual(cm.exception.code, code)


class MintedForm(unittest.TestCase):
    """Spec 2.6 and 4: the bytes a minter writes, and which refusal wins."""

    def mint_code(self, *args, **kw):
        with self.assertRaises(TesseraError) as cm:
            ref.mint(*args, **kw)
        return cm.exception.code

    def claims_of(self, dat):
        tok = ref.mint(KEYS, ISS, AUD, dat, NOW, jti="j")
        return ref.b64d(tok.split(".")[1]).decode()

    def test_doubles_have_one_layout_and_read_back_exactly(self):
        for value, text in [(0.0, "0.0"), (-0.0, "-0.0"), (100.0, "100.0"), (0.1, "0.1"),
                            (1e15, "1000000000000000.0"), (1e16, "1e+16"), (1e-5, "0.00001"),
                            (1.234e-6, "1.234e-6"), (5e-324, "5e-324"), (-7.25e-10, "-7.25e-10"),
                            (1.7976931348623157e308, "1.7976931348623157e+308")]:
            self.assertEqual(ref._minted_double(value), text)
        rng = __import__("random").Random(19)
        for _ in range(20000):
            value = __import__("struct").unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            if value != value or value in (float("inf"), float("-inf")):
                continue
            text = ref._minted_double(value)
            self.assertEqual(float(text).hex(), value.hex(), text)
            self.assertTrue("." in text or "e" in text, text)

    def test_dat_members_are_sorted_by_code_point_at_every_depth(self):
        dat = {"b": 1, "\U0001f600": 2, "\ue000": 3, "a": {"z": 0, "Z": [{"y": 1, "x": 2}]}, 10: 4}
        self.assertTrue(self.claims_of(dat).endswith(
            '"dat":{"10":4,"a":{"Z":[{"x":2,"y":1}],"z":0},"b":1,"\ue000":3,"\U0001f600":2}}'))
        self.assertEqual(self.mint_code(KEYS, ISS, AUD, {1: 1, "1": 2}, NOW), "bad_payload")

    def test_integers_beyond_64_bits_are_refused_not_rounded(self):
        self.assertIn('"dat":[18446744073709551615,-9223372036854775808]',
                      self.claims_of([2**64 - 1, -2**63]))
        for dat in ([2**64], {"n": -2**63 - 1}, 10**30):
            self.assertEqual(self.mint_code(KEYS, ISS, AUD, dat, NOW), "bad_payload")

    def test_lone_surrogates_in_iss_aud_sub_fpr_are_invalid_config_in_dat_bad_payload(self):
        lone = "x\ud800"
        for kw in ({"iss": lone}, {"aud": lone}, {"sub": lone}, {"fpr": lone}):
            args = {"iss": ISS, "aud": AUD, "sub": None, "fpr": None, **kw}
            self.assertEqual(self.mint_code(KEYS, args["iss"], args["aud"], None, NOW,
                                            sub=args["sub"], fpr=args["fpr"]), "invalid_config")
        self.assertEqual(self.mint_code(KEYS, ISS, AUD, [lone], NOW), "bad_payload")
        self.assertEqual(self.mint_code(KEYS, ISS, AUD, {lone: 1}, NOW), "bad_payload")

    def test_the_first_refusal_in_the_order_of_spec_4_wins(self):
        no_key = ref.load_key_set({"keys": []})
        self.assertEqual(self.mint_code(no_key, ISS, AUD, None, NOW, max_len=0), "invalid_config")
        self.assertEqual(self.mint_code(no_key, "", AUD, None, NOW), "invalid_key")
        self.assertEqual(self.mint_code(KEYS, ISS, "", None, NOW, ttl=86401), "invalid_config")
        self.assertEqual(self.mint_code(KEYS, ISS, AUD, [2**64], NOW, ttl=86401), "lifetime_too_long")
        self.assertEqual(self.mint_code(KEYS, ISS, AUD, [2**64], NOW, fpr="f" * 129), "invalid_config")
        self.assertEqual(self.mint_code(KEYS, ISS, AUD, [2**64], NOW, max_len=10), "bad_payload")
        self.assertEqual(self.mint_code(KEYS, ISS, AUD, None, NOW, sub="\udfff", fpr="f" * 129),
                         "invalid_config")

    @unittest.skipUnless(HAVE_AES, "needs cryptography")
    def test_a_given_iv_makes_a_sealed_token_reproducible_and_must_be_12_bytes(self):
        seal = lambda iv: ref.mint(SEALING_KEYS, ISS, AUD, {"n": 1}, NOW, jti="j", sealed=True, iv=iv)
        self.assertEqual(seal(IV), seal(IV))
        self.assertEqual(seal(IV).split(".")[2], b64(IV))
        with self.assertRaises(ValueError):
            seal(b"short")


class Cli(unittest.TestCase):
    def run_cli(self, *args):
        return subprocess.run([sys.executable, str(HERE / "tessera_cli.py"), *args],
                              capture_output=True, text=True, encoding="utf-8", timeout=60)

    def test_mint_then_verify(self):
        with tempfile.TemporaryDirectory() as tmp:
            keys = os.path.join(tmp, "keys.json")
            Path(keys).write_text(json.dumps(key_set_json()))
            common = ["--keys", keys, "--iss", ISS, "--aud", AUD]
            minted = self.run_cli("mint", *common, "--sub", SUB, "--now", str(NOW), "--ttl", "60",
                                  "--payload", '{"a": [1, "é"], "b": null}')
            self.assertEqual(minted.returncode, 0, minted.stderr)
            tok = minted.stdout.strip()
            self.assertEqual(verify(tok)["exp"], NOW + 60)
            ok = self.run_cli("verify", *common, "--sub", SUB, "--now", str(NOW), tok)
            self.assertEqual((ok.returncode, ok.stdout), (0, '{"a":[1,"é"],"b":null}\n'))
            late = self.run_cli("verify", *common, "--now", str(NOW + 90), tok)
            self.assertEqual(late.returncode, 1)
            self.assertTrue(late.stderr.startswith("error: expired: "), late.stderr)
            self.assertNotIn(tok, late.stderr)
            for args, code in [(["--sub", "user:1", tok], "wrong_subject"), (["--", "-garbage"], "malformed"),
                               (["--aud", "x", tok], "wrong_audience")]:
                r = self.run_cli("verify", *common, "--now", str(NOW), *args)
                self.assertEqual((r.returncode, r.stderr.split(":")[:2]), (1, ["error", " " + code]), r.stderr)
            now_default = self.run_cli("mint", *common)
            self.assertEqual(self.run_cli("verify", *common, now_default.stdout.strip()).stdout, "null\n")
            self.assertEqual(self.run_cli("mint", *common, "--ttl", "86401").returncode, 1)
            self.assertEqual(self.run_cli("mint", *common, "--payload", '{"a":1,"a":2}').returncode, 2)
            # Spec 4 step 6: an integer beyond 64 bits is refused, never minted as a binary64.
            beyond = self.run_cli("mint", *common, "--payload", '[1, 18446744073709551616]')
            self.assertEqual(beyond.returncode, 1, beyond.stdout)
            self.assertTrue(beyond.stderr.startswith("error: bad_payload: "), beyond.stderr)
            signed_zero = self.run_cli("mint", *common, "--now", str(NOW), "--payload", "[-0, 1E2]")
            self.assertEqual(verify(signed_zero.stdout.strip(), sub=None)["dat"], [-0.0, 100.0])
            self.assertIn('"dat":[-0.0,100.0]', ref.b64d(signed_zero.stdout.split(".")[1]).decode())
            self.assertEqual(self.run_cli("verify", *common).returncode, 2)
            # Without an active sealing key, --sealed is refused.
            no_sealing = self.run_cli("mint", *common, "--sealed")
            self.assertEqual(no_sealing.returncode, 1)
            self.assertTrue(no_sealing.stderr.startswith("error: invalid_key: "), no_sealing.stderr)

    @unittest.skipUnless(HAVE_AES, "cryptography not importable")
    def test_sealed_mint_then_verify_by_route_kind(self):
        with tempfile.TemporaryDirectory() as tmp:
            keys = os.path.join(tmp, "keys.json")
            Path(keys).write_text(json.dumps(sealing_set_json()))
            common = ["--keys", keys, "--iss", ISS, "--aud", AUD, "--now", str(NOW)]
            minted = self.run_cli("mint", *common, "--sealed", "--payload", '{"secret": "é"}')
            self.assertEqual(minted.returncode, 0, minted.stderr)
            tok = minted.stdout.strip()
            self.assertEqual((len(tok.split(".")), tok.split(".")[1]), (5, ""))
            self.assertEqual(verify(tok, keys=SEALING_KEYS, accept="sealed", sub=None)["dat"], {"secret": "é"})
            for accept in ("sealed", "either"):
                ok = self.run_cli("verify", *common, "--accept", accept, tok)
                self.assertEqual((ok.returncode, ok.stdout), (0, '{"secret":"é"}\n'), ok.stderr)
            for args in ([tok], ["--accept", "signed", tok]):  # signed is the default route kind
                refused = self.run_cli("verify", *common, *args)
                self.assertEqual(refused.returncode, 1)
                self.assertTrue(refused.stderr.startswith("error: malformed: "), refused.stderr)
                self.assertNotIn(tok, refused.stderr)
            signed = self.run_cli("mint", *common).stdout.strip()
            refused = self.run_cli("verify", *common, "--accept", "sealed", signed)
            self.assertTrue(refused.stderr.startswith("error: malformed: "), refused.stderr)
            self.assertEqual(self.run_cli("verify", *common, "--accept", "both", tok).returncode, 2)


class Runner(unittest.TestCase):
    def run_main(self, *args):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            code = run_vectors.main(list(args))
        return code, out.getvalue()

    def test_runner_over_a_temporary_vector_file(self):
        keys = key_set_json()
        ok = {"name": "ok", "keys": keys, "now": NOW, "iss": ISS, "aud": AUD, "sub": SUB, "token": token(),
              "accept": "signed", "expect-fail": False, "expected-code": None,
              "payload": {"qty": 2.5, "item": 7}}
        bad = {**ok, "name": "exp", "now": NOW + 400, "expect-fail": True, "expected-code": "expired", "payload": None}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "v.json")
            path.write_text(json.dumps({"name": "t", "description": "", "tests": [ok, bad]}))
            code, out = self.run_main(tmp)
            self.assertEqual(code, 0)
            self.assertTrue(out.endswith("1 vector file(s), 2 case(s): 2 passed, 0 failed, 0 skipped\n"), out)
            if HAVE_ED:
                ed = {**ok, "name": "ed", "token": ed_token(header(alg="EdDSA", kid="ed-1"), claims())}
                path.write_text(json.dumps({"tests": [ok, ed]}))
                self.assertEqual(self.run_main(tmp)[0], 0)
                with mock.patch.object(ref, "_ed25519", None):  # as without `cryptography`
                    code, out = self.run_main(tmp)
                self.assertEqual(code, 0)
                self.assertTrue(out.startswith("notice: the 'cryptography' package is not importable"), out)
                self.assertIn("1 passed, 0 failed, 1 skipped", out)
            if HAVE_AES:
                sealed = {**ok, "name": "sealed", "keys": sealing_set_json(), "token": sealed_token(),
                          "accept": "sealed"}
                on_signed_route = {**sealed, "name": "kind", "accept": "signed", "expect-fail": True,
                                   "expected-code": "malformed", "payload": None}
                path.write_text(json.dumps({"tests": [ok, sealed, on_signed_route]}))
                self.assertEqual(self.run_main(tmp),
                                 (0, "1 vector file(s), 3 case(s): 3 passed, 0 failed, 0 skipped\n"))
                with mock.patch.object(ref, "_AESGCM", None):  # refused before step 7: still checked
                    code, out = self.run_main(tmp)
                self.assertEqual(code, 0)
                self.assertIn("sealed cases that need it are skipped", out)
                self.assertIn("2 passed, 0 failed, 1 skipped", out)
            for wrong in ({**ok, "payload": {"qty": 2.5, "item": 7.0}}, {**bad, "expected-code": "malformed"},
                          {**ok, "payload": {"qty": 2.5, "item": True}}, {**ok, "sub": "user:1"},
                          {**ok, "accept": "sealed"}):
                path.write_text(json.dumps({"tests": [wrong]}))
                code, out = self.run_main(str(path))
                self.assertEqual(code, 1)
                self.assertIn(f"\nFAIL v.json:{wrong['name']}: expected ", "\n" + out)
            no_accept = {k: v for k, v in ok.items() if k != "accept"}  # the route kind is part of a case
            path.write_text(json.dumps({"tests": [no_accept]}))
            code, out = self.run_main(str(path))
            self.assertEqual(code, 1)
            self.assertIn("FAIL v.json:ok: case is not well-formed (KeyError", out)
            self.assertEqual(self.run_main(str(Path(tmp, "missing.json")))[0], 1)
        with tempfile.TemporaryDirectory() as empty:
            code, out = self.run_main(empty)
            self.assertEqual(code, 1)
            self.assertIn("no vector cases found", out)

    def test_a_file_named_mint_runs_through_mint_and_compares_the_token_byte_for_byte(self):
        case = {"name": "M-x", "keys": key_set_json(), "kind": "signed", "now": NOW, "iss": ISS,
                "aud": AUD, "sub": SUB, "ttl": 300, "nbf": None, "fpr": None, "jti": "j", "iv": None,
                "dat-text": '{"b": 1, "a": 2.50}', "expect-fail": False, "expected-code": None}
        minted = ref.mint(KEYS, ISS, AUD, {"a": 2.5, "b": 1}, NOW, sub=SUB, jti="j")
        refused = {**case, "name": "M-y", "dat-text": "[18446744073709551616]", "expect-fail": True,
                   "expected-code": "bad_payload"}
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp, "mint.json")
            for tok, code, summary in [(minted, 0, "2 passed, 0 failed"),
                                       (minted[:-1] + "A", 1, "1 passed, 1 failed")]:
                path.write_text(json.dumps({"name": "mint", "tests": [{**case, "token": tok}, refused]}))
                got, out = self.run_main(str(path))
                self.assertEqual(got, code, out)
                self.assertIn(summary, out)

    def test_default_directory_is_relative_to_the_script(self):
        self.assertEqual(run_vectors.DEFAULT_DIR, HERE.parent.parent / "vectors")


if __name__ == "__main__":
    unittest.main()
