"""Cross-implementation: tokens minted by the Python package verify with the `tessera` CLI
(the Rust core's command line) and the reverse, with key files and with keys derived from a
secret (`tessera derive`), signed and sealed, and refusals agree on the code."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import tessera
from conftest import Backend, tampered

ISS, AUD, SUB, NOW = "inventree", "plugin:stock-tools/action:transfer", "user:42", 1_790_000_000
SECRET = "django-insecure-cross-implementation-secret-0123456789"
OLD_SECRET = "django-insecure-the-secret-before-the-rotation-98765"
DAT = {"part_id": 1234, "qty": 2.5, "note": "r\u00e9assort \U0001f4e6", "tags": [None, True]}


def run(
    cli: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cli), *args], capture_output=True, text=True, env=env, timeout=60)


def cli_verify(cli: Path, keys: Path, token: str, *extra: str) -> tuple[str, Any]:
    out = run(
        cli, "verify", "--json", "--keys", str(keys), "--iss", ISS, "--now", str(NOW), *extra, token
    )
    doc = json.loads(out.stdout)
    if out.returncode == 0:
        return ("payload", doc["claims"]["dat"])
    assert out.returncode == 1, out.stderr
    return ("error", doc["code"])


def cli_sign(cli: Path, keys: Path, *extra: str) -> str:
    out = run(
        cli,
        "sign",
        "--keys",
        str(keys),
        "--iss",
        ISS,
        "--aud",
        AUD,
        "--sub",
        SUB,
        "--now",
        str(NOW),
        "--payload",
        json.dumps(DAT),
        *extra,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("alg", ["HS256", "EdDSA"])
def test_python_tokens_verify_with_the_cli_and_refusals_agree(
    cli: Path, backend: Backend, tmp_path: Path, alg: str
) -> None:
    keys = backend.KeySet.generate(alg)
    path = tmp_path / "keys.json"
    path.write_text(keys.to_json())
    token = backend.mint(keys, DAT, iss=ISS, aud=AUD, sub=SUB, now=NOW)
    assert cli_verify(cli, path, token, "--aud", AUD, "--sub", SUB) == ("payload", DAT)
    for extra, code in [
        (["--aud", "plugin:other/action:x"], "wrong_audience"),
        (["--aud", AUD, "--sub", "user:7"], "wrong_subject"),
        (["--aud", AUD, "--accept", "sealed"], "malformed"),
    ]:
        assert cli_verify(cli, path, token, *extra) == ("error", code)
    assert cli_verify(cli, path, tampered(token), "--aud", AUD) == ("error", "bad_signature")


def test_cli_tokens_verify_in_python_signed_and_sealed(
    cli: Path, backend: Backend, tmp_path: Path
) -> None:
    path = tmp_path / "keys.json"
    assert run(cli, "keygen", "--alg", "eddsa", "--out", str(path)).returncode == 0
    assert run(cli, "keys", "rotate", "--alg", "a256gcm", str(path)).returncode == 0
    keys = backend.KeySet.from_file(path)
    signed = cli_sign(cli, path)
    sealed = cli_sign(cli, path, "--seal")
    claims = backend.verify(signed, keys, iss=ISS, aud=AUD, sub=SUB, now=NOW)
    assert claims.dat == DAT and claims.sub == SUB
    opened = backend.verify(sealed, keys, iss=ISS, aud=AUD, sub=SUB, now=NOW, accept="sealed")
    assert opened.dat == DAT
    with pytest.raises(tessera.TesseraError) as e:
        backend.verify(signed, keys, iss=ISS, aud=AUD, sub="user:7", now=NOW)
    assert e.value.code == "wrong_subject"


def test_keys_derived_from_a_secret_agree_with_tessera_derive(
    cli: Path, backend: Backend, tmp_path: Path
) -> None:
    env = {"APP_SECRET": SECRET, "APP_OLD_SECRET": OLD_SECRET, "PATH": "/usr/bin:/bin"}
    path = tmp_path / "derived.json"
    out = run(
        cli,
        "derive",
        "--secret-env",
        "APP_SECRET",
        "--fallback-env",
        "APP_OLD_SECRET",
        "--label",
        ISS,
        "--out",
        str(path),
        env=env,
    )
    assert out.returncode == 0, out.stderr
    keys = backend.KeySet.derive(SECRET.encode(), ISS, [OLD_SECRET.encode()])
    assert out.stdout.strip() == keys.active
    assert json.loads(path.read_text()) == json.loads(keys.to_json())
    assert SECRET not in path.read_text() and SECRET not in out.stdout + out.stderr
    # Python mints with the derived keys, the CLI verifies with its own derivation ...
    token = backend.mint(keys, DAT, iss=ISS, aud=AUD, sub=SUB, now=NOW)
    sealed = backend.mint(keys, DAT, iss=ISS, aud=AUD, sub=SUB, now=NOW, sealed=True)
    assert cli_verify(cli, path, token, "--aud", AUD, "--sub", SUB) == ("payload", DAT)
    assert cli_verify(cli, path, sealed, "--aud", AUD, "--accept", "sealed") == ("payload", DAT)
    # ... and the reverse, including a token of the old secret (a fallback: verify-only).
    old = tmp_path / "old.json"
    run(cli, "derive", "--secret-env", "APP_OLD_SECRET", "--label", ISS, "--out", str(old), env=env)
    for minted_by in (path, old):
        claims = backend.verify(cli_sign(cli, minted_by), keys, iss=ISS, aud=AUD, now=NOW)
        assert claims.dat == DAT
    fresh = backend.KeySet.derive(SECRET.encode(), ISS)
    with pytest.raises(tessera.TesseraError) as e:
        backend.verify(cli_sign(cli, old), fresh, iss=ISS, aud=AUD, now=NOW)
    assert e.value.code == "unknown_key"


def test_cli_derive_refuses_a_short_or_missing_secret(cli: Path, tmp_path: Path) -> None:
    env = {"SHORT": "too short", "PATH": "/usr/bin:/bin"}
    for var in ("SHORT", "UNSET_VAR"):
        out = run(
            cli,
            "derive",
            "--secret-env",
            var,
            "--label",
            ISS,
            "--out",
            str(tmp_path / "k.json"),
            env=env,
        )
        assert out.returncode == 1 and "invalid_key" in out.stderr
        assert "too short" not in out.stderr
    assert not (tmp_path / "k.json").exists()
    assert tessera.STATUS["invalid_key"] == 500
