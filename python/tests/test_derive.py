"""Keys derived from a host secret (spec §3.7) on both backends: spec/vectors/derive.json."""

from __future__ import annotations

import json
from typing import Any

import pytest

import tessera
from conftest import Backend, vector_cases
from tessera import _reference as ref

CASES = vector_cases("derive.json")


def derive(backend: Backend, case: dict[str, Any]) -> Any:
    return backend.KeySet.derive(
        ref.b64d(case["secret"]), case["label"], [ref.b64d(f) for f in case["fallbacks"]]
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_derivation_and_verification_match_the_vector(
    backend: Backend, case: dict[str, Any]
) -> None:
    try:
        keys = derive(backend, case)
    except tessera.TesseraError as e:
        assert case["keys"] is None and e.code == case["expected-code"], case["name"]
        return
    assert json.loads(keys.to_json()) == case["keys"], case["name"]
    try:
        claims = backend.verify(
            case["token"],
            keys,
            iss=case["iss"],
            aud=case["aud"],
            sub=case["sub"],
            accept=case["accept"],
            now=case["now"],
        )
        got: tuple[str, Any] = ("payload", claims.dat)
    except tessera.TesseraError as e:
        got = ("error", e.code)
    want = ("error", case["expected-code"]) if case["expect-fail"] else ("payload", case["payload"])
    assert got == want, case["name"]


def test_there_are_derive_vectors() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize(
    ("secret", "label", "code"),
    [
        (b"x" * 31, "inventree", "invalid_key"),
        (b"", "inventree", "invalid_key"),
        (b"x" * 32, "", "invalid_config"),
        (b"x" * 32, "\u00e9" * 128, "invalid_config"),  # 256 bytes of UTF-8
    ],
)
def test_bad_secret_or_label_is_refused(
    backend: Backend, secret: bytes, label: str, code: str
) -> None:
    with pytest.raises(tessera.TesseraError) as e:
        backend.KeySet.derive(secret, label)
    assert e.value.code == code
    assert secret.decode() not in str(e.value) or not secret


def test_a_short_fallback_is_refused_too(backend: Backend) -> None:
    with pytest.raises(tessera.TesseraError) as e:
        backend.KeySet.derive(b"x" * 32, "l", [b"y" * 31])
    assert e.value.code == "invalid_key"


def test_backends_derive_the_same_keys_for_many_inputs(native: Backend, pure: Backend) -> None:
    for n in range(200):
        secret = bytes((n * 7 + i) % 256 for i in range(32 + n % 40))
        label = f"issuer-{n}" + "\u2603" * (n % 3)
        fallbacks = [bytes([n % 256]) * 40] * (n % 3)
        docs = [b.KeySet.derive(secret, label, fallbacks).to_json() for b in (native, pure)]
        assert json.loads(docs[0]) == json.loads(docs[1]), n


def test_a_text_secret_is_its_utf8_bytes(backend: Backend) -> None:
    text = "django-insecure-\u00e9t\u00e9-0123456789-abcdefghijklmnop"
    by_text = backend.KeySet.derive(text, "inventree", [text + "!"])
    by_bytes = backend.KeySet.derive(text.encode("utf-8"), "inventree", [(text + "!").encode()])
    assert json.loads(by_text.to_json()) == json.loads(by_bytes.to_json())
