"""Every case of spec/vectors on both backends, with the exact outcome the file names."""

from __future__ import annotations

import json
from typing import Any

import pytest

import tessera
from conftest import Backend, case_keys, vector_cases

CASES = vector_cases()
SUCCESSES = [c for c in CASES if not c["expect-fail"]]


def canonical(value: Any) -> str:
    # Strict equality as spec §12 says: true != 1, 1 != 1.0, member order irrelevant.
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def verify_case(backend: Backend, case: dict[str, Any]) -> Any:
    """The case's claims as `backend` verifies them (or its TesseraError)."""
    keys = backend.keys(case_keys(case))
    return backend.verify(
        case["token"],
        keys,
        iss=case["iss"],
        aud=case["aud"],
        sub=case.get("sub"),
        anonymous=case.get("anonymous", False),
        accept=case["accept"],
        now=case["now"],
        **case.get("options", {}),
    )


def outcome(backend: Backend, case: dict[str, Any]) -> tuple[str, str]:
    try:
        claims = verify_case(backend, case)
    except tessera.TesseraError as e:
        return ("error", e.code)
    return ("payload", canonical(claims.dat))


def expected(case: dict[str, Any]) -> tuple[str, str]:
    if case["expect-fail"]:
        return ("error", case["expected-code"])
    return ("payload", canonical(case["payload"]))


def test_there_are_vectors_of_every_file() -> None:
    prefixes = {case["name"].split("-")[0] for case in CASES}
    assert {"HS", "ED", "F", "SE"} <= prefixes, prefixes
    assert len(CASES) > 150


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector_outcome_is_exact(backend: Backend, case: dict[str, Any]) -> None:
    assert outcome(backend, case) == expected(case), case["name"]


@pytest.mark.parametrize("case", SUCCESSES, ids=[c["name"] for c in SUCCESSES])
def test_backends_return_equal_claims(native: Backend, pure: Backend, case: dict[str, Any]) -> None:
    got = [canonical(verify_case(b, case).to_dict()) for b in (native, pure)]
    assert got[0] == got[1], case["name"]
