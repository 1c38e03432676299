"""The two backends agree on thousands of generated cases: the same token minted byte for
byte (signed, fixed jti), each verifying the other's tokens (sealed), and the same outcome,
claims or error code, for every verification option and every mutation of the token."""

from __future__ import annotations

import json
import random
import string
from typing import Any, Callable, Optional

import pytest

import tessera
from conftest import Backend
from tessera import _reference as ref

CASES = 2500
NOW = 1_790_000_000
ISS = "inventree"
AUDS = ["plugin:stock-tools/action:transfer", "plugin:stock-tools/action:print", "a"]
SUBS = [None, "user:42", "user:7", "üser:ä", "x" * 300]


def key_set_doc(rng: random.Random, kind: str) -> str:
    def secret(n: int = 32) -> str:
        return ref.b64e(bytes(rng.getrandbits(8) for _ in range(n)))

    if kind == "EdDSA":
        from cryptography.hazmat.primitives.asymmetric import ed25519

        seed = bytes(rng.getrandbits(8) for _ in range(32))
        x = ref.b64e(ref._ed_public(seed))
        assert ed25519  # the import is what matters: EdDSA needs `cryptography`
        keys = [
            {
                "kty": "OKP",
                "crv": "Ed25519",
                "kid": "ed-1",
                "alg": "EdDSA",
                "x": x,
                "d": ref.b64e(seed),
            }
        ]
        return json.dumps({"keys": keys, "active": "ed-1"})
    keys = [{"kty": "oct", "kid": "hs-1", "alg": "HS256", "k": secret(rng.choice([32, 48, 64]))}]
    doc: dict[str, Any] = {"keys": keys, "active": "hs-1"}
    if kind == "sealed":
        keys.append({"kty": "oct", "kid": "se-1", "use": "enc", "alg": "A256GCM", "k": secret()})
        doc["active_sealing"] = "se-1"
    return json.dumps(doc)


def text(rng: random.Random) -> str:
    alphabet = (
        string.ascii_letters + string.digits + ' "\\/\n\t\u00e9\u2028\u4e2d\U0001f600\x00\x7f'
    )
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))


def number(rng: random.Random) -> Any:
    choices: list[Callable[[], Any]] = [
        lambda: rng.randint(-1000, 1000),
        lambda: rng.randint(-(2**63), 2**64 - 1),
        lambda: rng.choice([2**64, -(2**63) - 1, 2**70, -(2**100)]),
        lambda: rng.uniform(-1e6, 1e6),
        lambda: rng.choice([0.0, -0.0, 1e308, 5e-324, 1.5, 1e16, 0.1, 2.5e-8, 9007199254740993.0]),
    ]
    return rng.choice(choices)()


def payload(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(10 if depth < 4 else 6)
    if pick == 0:
        return None
    if pick == 1:
        return rng.random() < 0.5
    if pick in (2, 3):
        return number(rng)
    if pick in (4, 5):
        return text(rng)
    if pick in (6, 7):
        return [payload(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {text(rng): payload(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def outcome(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    try:
        result = call(*args, **kwargs)
    except tessera.TesseraError as e:
        return ("error", e.code)
    if isinstance(result, str):
        return ("token", result)
    return ("claims", json.dumps(result.to_dict(), sort_keys=True, ensure_ascii=False))


def mutations(rng: random.Random, token: str) -> list[str]:
    alphabet = string.ascii_letters + string.digits + "-_."
    out = []
    for _ in range(3):
        i = rng.randrange(len(token))
        out.append(token[:i] + rng.choice(alphabet.replace(token[i], "")) + token[i + 1 :])
    out.append(token[: rng.randrange(len(token))])
    out.append(token + rng.choice(alphabet))
    parts = token.split(".")
    rng.shuffle(parts)
    out.append(".".join(parts))
    out.append(token.replace(".", "..", 1))
    return out


def verify_options(rng: random.Random, aud: str, sub: Optional[str]) -> list[dict[str, Any]]:
    base = {"iss": ISS, "aud": aud, "now": NOW}
    return [
        dict(base, sub=sub),
        dict(base, sub=rng.choice(SUBS)),
        dict(base, anonymous=True),
        dict(base, aud=rng.choice(AUDS)),
        dict(base, iss=rng.choice([ISS, "inventree ", "other"])),
        dict(base, now=NOW + rng.randint(-400, 90000), leeway=rng.choice([0, 30, 300])),
        dict(base, max_lifetime=rng.choice([1, 60, 3600, 86400])),
        dict(base, accept=rng.choice(["signed", "sealed", "either"])),
        dict(base, max_len=rng.choice([1, 100, 400, 8192])),
    ]


def test_backends_agree_on_generated_cases(native: Backend, pure: Backend) -> None:
    rng = random.Random(17)
    counts = {"token": 0, "claims": 0, "error": 0}
    for case in range(CASES):
        kind = rng.choice(["HS256", "HS256", "EdDSA", "sealed"])
        doc = key_set_doc(rng, kind)
        keys = {b.name: b.keys(doc) for b in (native, pure)}
        aud, sub = rng.choice(AUDS), rng.choice(SUBS[:4])
        ttl = rng.choice([1, 60, 300, 86400, 86401])
        mint_args: dict[str, Any] = {
            "iss": ISS,
            "aud": aud,
            "sub": sub,
            "ttl": ttl,
            "now": NOW - rng.randint(0, 400),
            "nbf": rng.choice([None, None, NOW + rng.randint(-100, 100)]),
            "fpr": rng.choice([None, None, text(rng) or "v1", "x" * rng.randint(120, 130)]),
        }
        dat = payload(rng)
        if kind == "sealed":
            tokens = {
                b.name: outcome(b.mint, keys[b.name], dat, sealed=True, **mint_args)
                for b in (native, pure)
            }
            assert tokens["native"][0] == tokens["pure"][0], (case, tokens)
            if tokens["native"][0] == "error":
                assert tokens["native"] == tokens["pure"], case
                counts["error"] += 1
                continue
        else:
            jti = ref.b64e(bytes(rng.getrandbits(8) for _ in range(16)))
            tokens = {
                b.name: outcome(b.mint, keys[b.name], dat, jti=jti, **mint_args)
                for b in (native, pure)
            }
            assert tokens["native"] == tokens["pure"], (case, dat, mint_args)
            if tokens["native"][0] == "error":
                counts["error"] += 1
                continue
        counts["token"] += 1
        for minted in {t[1] for t in tokens.values()}:
            for candidate in [minted, *mutations(rng, minted)]:
                for options in verify_options(rng, aud, sub):
                    if kind == "sealed" and "accept" not in options:
                        options["accept"] = "sealed"
                    got = [
                        outcome(b.verify, candidate, keys[b.name], **options)
                        for b in (native, pure)
                    ]
                    assert got[0] == got[1], (case, options, candidate == minted)
                    counts[got[0][0]] += 1
    # The generator reaches both outcomes often, or the agreement would prove little.
    assert counts["token"] > CASES // 2 and counts["claims"] > CASES and counts["error"] > CASES


@pytest.mark.parametrize(
    "dat", [float("nan"), float("inf"), {1, 2}, {"a": b"x"}, "\ud800", {1: "a", "1": "b"}]
)
def test_unrepresentable_payloads_are_bad_payload_on_both(backend: Backend, dat: Any) -> None:
    keys = backend.KeySet.generate("HS256")
    with pytest.raises(tessera.TesseraError) as e:
        backend.mint(keys, dat, iss=ISS, aud="a", now=NOW)
    assert e.value.code == "bad_payload" and e.value.status == 422


@pytest.mark.parametrize(
    "options",
    [
        {"leeway": -1},
        {"leeway": 301},
        {"max_len": 0},
        {"max_len": -5},
        {"max_lifetime": 0},
        {"max_lifetime": -1},
        {"now": -1},
        {"accept": "both"},
    ],
)
def test_bad_verify_options_are_invalid_config_on_both(
    native: Backend, pure: Backend, options: dict[str, Any]
) -> None:
    codes = []
    for b in (native, pure):
        keys = b.KeySet.generate("HS256")
        token = b.mint(keys, 1, iss=ISS, aud="a", now=NOW)
        kw: dict[str, Any] = {"iss": ISS, "aud": "a", "now": NOW, **options}
        codes.append(outcome(b.verify, token, keys, **kw))
    assert codes == [("error", "invalid_config")] * 2


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"ttl": 0}, "invalid_config"),
        ({"ttl": -3}, "invalid_config"),
        ({"ttl": 86401}, "lifetime_too_long"),
        ({"nbf": -1}, "invalid_config"),
        ({"max_lifetime": 0}, "invalid_config"),
        ({"max_len": -1}, "invalid_config"),
        ({"max_len": 50}, "too_large"),
        ({"fpr": ""}, "invalid_config"),
        ({"sub": ""}, "invalid_config"),
        ({"aud": ""}, "invalid_config"),
        ({"now": 253402300799 - 10}, "invalid_config"),
    ],
)
def test_bad_mint_options_get_the_same_code_on_both(
    native: Backend, pure: Backend, options: dict[str, Any], code: str
) -> None:
    for b in (native, pure):
        keys = b.KeySet.generate("HS256")
        kw: dict[str, Any] = {"iss": ISS, "aud": "a", "now": NOW, **options}
        assert outcome(b.mint, keys, 1, **kw) == ("error", code), b.name


def test_a_negative_mint_time_is_a_value_error_on_both(native: Backend, pure: Backend) -> None:
    for b in (native, pure):
        with pytest.raises(ValueError):
            b.mint(b.KeySet.generate("HS256"), 1, iss=ISS, aud="a", now=-1)


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"ttl": 0}, "invalid_config"),
        ({"aud": ""}, "invalid_config"),
        ({"fpr": "x" * 129}, "invalid_config"),
        ({"sealed": True}, "invalid_key"),  # no active sealing key
        ({}, "bad_payload"),
    ],
)
def test_an_unrepresentable_payload_is_refused_after_the_earlier_steps(
    native: Backend, pure: Backend, options: dict[str, Any], code: str
) -> None:
    # Spec §4: the payload is step 6; a request with an earlier fault gets that fault's code.
    for b in (native, pure):
        keys = b.KeySet.generate("HS256")
        kw: dict[str, Any] = {"iss": ISS, "aud": "a", "now": NOW, **options}
        assert outcome(b.mint, keys, float("nan"), **kw) == ("error", code), b.name
