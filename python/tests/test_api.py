"""The package's API, the same on both backends: key sets, mint, verify, inspect, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import tessera
from conftest import Backend, tampered

ISS, AUD, NOW = "inventree", "plugin:stock-tools/action:transfer", 1_790_000_000


def refused(code: str, call: object) -> tessera.TesseraError:
    with pytest.raises(tessera.TesseraError) as e:
        call()  # type: ignore[operator]
    assert e.value.code == code, e.value
    return e.value


def test_round_trip_returns_claims_as_python_values(backend: Backend) -> None:
    keys = backend.KeySet.generate("HS256")
    dat = {"part": 12, "qty": 2.5, "tags": ["a", None, True], "n": {"deep": [1, [2]]}}
    token = backend.mint(keys, dat, iss=ISS, aud=AUD, sub="user:42", ttl=60, fpr="v3", now=NOW)
    claims = backend.verify(token, keys, iss=ISS, aud=AUD, sub="user:42", now=NOW + 10)
    assert claims.dat == dat
    # Members in the order the token writes them (spec §2.6's minted form decides which).
    written = tessera.inspect(token).claims
    assert written is not None and list(claims.dat) == list(written["dat"])
    assert (claims.iss, claims.aud, claims.sub, claims.fpr) == (ISS, AUD, "user:42", "v3")
    assert (claims.iat, claims.nbf, claims.exp) == (NOW, NOW, NOW + 60)
    assert len(claims.jti) == 22
    assert claims.to_dict()["dat"] == dat


def test_every_refusal_carries_code_and_status(backend: Backend) -> None:
    keys = backend.KeySet.generate("HS256")
    token = backend.mint(keys, None, iss=ISS, aud=AUD, sub="user:42", now=NOW)
    cases: list[tuple[str, int, dict[str, Any]]] = [
        ("wrong_audience", 403, {"aud": "plugin:other/action:x"}),
        ("wrong_subject", 403, {"sub": "user:7"}),
        ("wrong_subject", 403, {"anonymous": True}),
        ("wrong_issuer", 403, {"iss": "other"}),
        ("expired", 401, {"now": NOW + 300 + 30}),
        ("not_yet_valid", 401, {"now": NOW - 31}),
        ("lifetime_too_long", 401, {"max_lifetime": 299}),
        ("malformed", 400, {"accept": "sealed"}),
        ("too_large", 413, {"max_len": 10}),
        ("invalid_config", 500, {"leeway": 301}),
    ]
    for code, status, options in cases:
        kw = {"iss": ISS, "aud": AUD, "now": NOW, **options}
        err = refused(code, lambda kw=kw: backend.verify(token, keys, **kw))
        assert err.status == status == tessera.STATUS[code]
        assert token not in str(err) and token.split(".")[2] not in str(err)
    other = backend.KeySet.generate("HS256")
    refused("unknown_key", lambda: backend.verify(token, other, iss=ISS, aud=AUD, now=NOW))
    forged = tampered(token)
    refused("bad_signature", lambda: backend.verify(forged, keys, iss=ISS, aud=AUD, now=NOW))


def test_rotation_keeps_old_tokens_until_retired(backend: Backend) -> None:
    keys = backend.KeySet.generate("HS256")
    first = keys.active
    old = backend.mint(keys, 1, iss=ISS, aud=AUD, now=NOW)
    second = keys.rotate("EdDSA")
    assert keys.active == second != first and keys.algorithms[second] == "EdDSA"
    new = backend.mint(keys, 2, iss=ISS, aud=AUD, now=NOW)
    assert backend.verify(old, keys, iss=ISS, aud=AUD, now=NOW).dat == 1
    assert backend.verify(new, keys, iss=ISS, aud=AUD, now=NOW).dat == 2
    refused("invalid_key", lambda: keys.retire(second))  # the active key stays
    keys.retire(first)
    refused("unknown_key", lambda: backend.verify(old, keys, iss=ISS, aud=AUD, now=NOW))
    assert len(keys) == 1


def test_a_name_that_is_no_kid_of_the_set_is_never_quoted(backend: Backend) -> None:
    # Regression of a key_set fuzz finding (fuzz/RESULTS.md): a key's secret pasted where a kid
    # belongs ("active", activate, retire) was quoted in the refusal, and so in logs.
    keys = backend.KeySet.generate("HS256")
    doc = json.loads(keys.to_json())
    secret = doc["keys"][0]["k"]
    for member in ("active", "active_sealing"):
        misnamed = json.dumps({**doc, member: secret})
        err = refused("invalid_key", lambda m=misnamed: backend.KeySet.from_json(m))
        assert secret not in str(err) and f'"{member}"' in str(err), err
    for call in (keys.activate, keys.retire):
        err = refused("invalid_key", lambda c=call: c(secret))
        assert secret not in str(err), err


def test_inactive_key_then_activate_and_sealing(backend: Backend) -> None:
    keys = backend.KeySet.generate("HS256")
    refused("invalid_key", lambda: backend.mint(keys, 1, iss=ISS, aud=AUD, sealed=True))
    added = keys.add("A256GCM")
    assert keys.active_sealing is None
    keys.activate(added)
    assert keys.active_sealing == added
    sealed = backend.mint(keys, {"salary": 1}, iss=ISS, aud=AUD, sealed=True, now=NOW)
    assert len(sealed.split(".")) == 5 and "salary" not in tessera.inspect(sealed).header
    assert tessera.inspect(sealed).claims is None
    claims = backend.verify(sealed, keys, iss=ISS, aud=AUD, accept="sealed", now=NOW)
    assert claims.dat == {"salary": 1}
    refused("malformed", lambda: backend.verify(sealed, keys, iss=ISS, aud=AUD, now=NOW))


def test_public_jwks_and_repr_hold_no_secret(backend: Backend) -> None:
    keys = backend.KeySet.generate("HS256")
    keys.rotate("EdDSA")
    keys.rotate("A256GCM")
    private = json.loads(keys.to_json())
    secrets = [k.get("k") or k.get("d") for k in private["keys"]]
    public = keys.public_jwks()
    assert [k["alg"] for k in public["keys"]] == ["EdDSA"]
    assert all("d" not in k and "k" not in k for k in public["keys"])
    for secret in secrets:
        assert secret and secret not in json.dumps(public) and secret not in repr(keys)
    reloaded = backend.KeySet.from_json(keys.to_json())
    assert reloaded.algorithms == keys.algorithms and reloaded.active == keys.active
    verify_only = backend.KeySet.from_public_jwks(json.dumps(public))
    assert verify_only.active is None and len(verify_only) == 1
    refused("invalid_key", lambda: backend.KeySet.from_public_jwks(keys.to_json()))


def test_key_set_from_file_and_env(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = backend.KeySet.generate("HS256")
    path = tmp_path / "keys.json"
    path.write_text(keys.to_json())
    assert backend.KeySet.from_file(path).active == keys.active
    assert backend.KeySet.from_file(str(path)).active == keys.active
    err = refused("invalid_key", lambda: backend.KeySet.from_file(tmp_path / "missing.json"))
    assert "missing.json" in str(err)
    monkeypatch.setenv("TESSERA_KEYS", keys.to_json())
    assert backend.KeySet.from_env().active == keys.active
    monkeypatch.setenv("TESSERA_TEST_KEYS", '{"keys": [{"kty": "oct"}]}')
    err = refused("invalid_key", lambda: backend.KeySet.from_env("TESSERA_TEST_KEYS"))
    assert "TESSERA_TEST_KEYS" in str(err)
    monkeypatch.delenv("TESSERA_TEST_KEYS")
    refused("invalid_key", lambda: backend.KeySet.from_env("TESSERA_TEST_KEYS"))


def test_unknown_algorithm_is_a_value_error(backend: Backend) -> None:
    with pytest.raises(ValueError):
        backend.KeySet.generate("HS512")


def test_key_errors_never_quote_key_material(backend: Backend) -> None:
    short = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE"  # 28 bytes: too short for HS256
    doc = json.dumps({"keys": [{"kty": "oct", "kid": "a", "alg": "HS256", "k": short}]})
    err = refused("invalid_key", lambda: backend.KeySet.from_json(doc))
    assert short not in str(err) and err.status == 500


def test_inspect_reads_without_verifying() -> None:
    keys = tessera.KeySet.generate("HS256")
    token = tessera.mint(keys, iss=ISS, aud=AUD, dat={"n": 1}, sub="u")
    seen = tessera.inspect(token)
    assert seen.kind == "signed" and seen.header["kid"] == keys.active
    assert seen.claims is not None and seen.claims["dat"] == {"n": 1}
    assert "'n'" not in repr(seen)
    refused("malformed", lambda: tessera.inspect("a.b"))
    refused("too_large", lambda: tessera.inspect("a" * 9000))


def test_public_mint_uses_the_selected_backend() -> None:
    keys = tessera.KeySet.generate("HS256")
    token = tessera.mint(keys, iss=ISS, aud=AUD, dat=[1, 2], now=NOW)
    assert tessera.verify(token, keys, iss=ISS, aud=AUD, now=NOW).dat == [1, 2]
    refused("bad_payload", lambda: tessera.mint(keys, iss=ISS, aud=AUD, dat=float("nan")))


@pytest.mark.parametrize("forced", ["pure", "native"])
def test_environment_variable_selects_the_backend(
    forced: str, native: Backend, tmp_path: Path
) -> None:
    code = (
        "import tessera; print(tessera.BACKEND, type(tessera.KeySet.generate('HS256')).__module__)"
    )
    env = dict(os.environ, TESSERA_BACKEND=forced)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,  # the package as the tests import it, not a source folder in the cwd
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [forced, f"tessera._{forced}"]


def test_unknown_backend_name_is_refused_at_import() -> None:
    env = dict(os.environ, TESSERA_BACKEND="fast")
    run = subprocess.run(
        [sys.executable, "-c", "import tessera"], env=env, capture_output=True, text=True
    )
    assert run.returncode != 0 and "TESSERA_BACKEND" in run.stderr


def test_the_readme_example_runs() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert "tessera.verify" in block
    exec(compile(block, "README.md", "exec"), {})


def run_without_compiled_module(code: str, tmp_path: Path, **env: str) -> Any:
    """`code` in a fresh interpreter where `tessera._native` cannot be imported (as on a
    platform without a wheel)."""
    blocked = "import sys; sys.modules['tessera._native'] = None\n" + code
    return subprocess.run(
        [sys.executable, "-c", blocked],
        env={**os.environ, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )


def test_without_the_compiled_module_the_package_falls_back_to_pure(tmp_path: Path) -> None:
    code = (
        "import tessera\n"
        "keys = tessera.KeySet.generate('HS256')\n"
        "token = tessera.mint(keys, iss='i', aud='a', dat=[1])\n"
        "print(tessera.BACKEND, tessera.verify(token, keys, iss='i', aud='a').dat)\n"
    )
    run = run_without_compiled_module(code, tmp_path)
    assert run.stdout.split() == ["pure", "[1]"], run.stderr
    forced = run_without_compiled_module(code, tmp_path, TESSERA_BACKEND="native")
    assert forced.returncode != 0 and "tessera._native" in forced.stderr


def test_errors_pickle_with_their_code(backend: Backend) -> None:
    import pickle

    with pytest.raises(tessera.TesseraError) as e:
        backend.KeySet.from_json("{}")
    again = pickle.loads(pickle.dumps(e.value))
    assert type(again) is type(e.value) and (again.code, str(again)) == (e.value.code, str(e.value))
