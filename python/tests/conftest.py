"""Fixtures: both backends behind one interface, the spec's vector files, the CLI binary."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

import tessera
from tessera import _pure

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "spec" / "vectors"

try:
    from tessera import _native
except ImportError:  # pragma: no cover - only without a build
    _native = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Backend:
    """One backend's KeySet, mint (with an optional fixed jti) and verify."""

    name: str
    KeySet: Any
    verify: Callable[..., Any]
    _mint: Callable[..., str]

    def mint(self, keys: Any, dat: Any = None, jti: Optional[str] = None, **kw: Any) -> str:
        if self.name == "pure":
            return self._mint(keys, dat, jti=jti, **kw)
        return self._mint(keys, tessera._payload_json(dat), jti=jti, **kw)

    def keys(self, doc: Any) -> Any:
        return self.KeySet.from_json(doc if isinstance(doc, str) else json.dumps(doc))


PURE = Backend("pure", _pure.KeySet, _pure.verify, _pure.mint)
NATIVE = (
    Backend("native", _native.KeySet, _native.verify, _native.mint) if _native is not None else None
)


def pytest_report_header() -> str:
    return f"tessera backend: {tessera.BACKEND}; compiled backend importable: {_native is not None}"


@pytest.fixture(scope="session")
def native() -> Backend:
    if NATIVE is None:
        if os.environ.get("TESSERA_REQUIRE_NATIVE"):
            pytest.fail("the compiled backend is required (TESSERA_REQUIRE_NATIVE) but missing")
        pytest.skip("the compiled backend is not built")
    return NATIVE


@pytest.fixture(scope="session")
def pure() -> Backend:
    return PURE


@pytest.fixture(params=["native", "pure"], scope="session")
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "pure":
        return PURE
    return request.getfixturevalue("native")  # type: ignore[no-any-return]


def tampered(token: str) -> str:
    """`token` with one character of its last segment changed, away from its end (whose
    unused low bits must stay zero, or the token is malformed rather than forged)."""
    i = len(token) - 10
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


def vector_cases(*files: str) -> list[dict[str, Any]]:
    """The verification cases (those with a route kind, `accept`) of the named vector files,
    or of every file but derive.json (which test_derive runs)."""
    cases: list[dict[str, Any]] = []
    for name in files or sorted(p.name for p in VECTORS.glob("*.json") if p.name != "derive.json"):
        doc = tessera._reference.parse_json((VECTORS / name).read_bytes())
        cases.extend(case for case in doc["tests"] if "accept" in case)
    return cases


def case_keys(case: dict[str, Any]) -> Any:
    """A case's key set as spec/vectors/README.md says: `keys-build` instructions, the
    `keys-text` text as it is, or the `keys` value."""
    build = case.get("keys-build")
    if build is not None:
        items = (build["item"].replace("{n}", str(n)) for n in range(build["count"]))
        return build["head"] + build["separator"].join(items) + " " * build["pad"] + build["tail"]
    return case["keys-text"] if "keys-text" in case else case["keys"]


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `tessera` CLI binary: $TESSERA_CLI, else built with cargo (target/debug/tessera)."""
    given = os.environ.get("TESSERA_CLI")
    if given:
        return Path(given)
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.fail("cargo is needed to build the tessera CLI (or set TESSERA_CLI)")
    subprocess.run(
        [cargo, "build", "--quiet", "-p", "tessera-client", "--bin", "tessera"],
        cwd=REPO,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "tessera"
