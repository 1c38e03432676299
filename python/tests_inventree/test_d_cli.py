"""Cross-implementation on the live site: a token the plugin minted in an InvenTree worker
verifies with the Rust CLI (`tessera verify`) given the keys `tessera derive` derives from
InvenTree's SECRET_KEY and the plugin's label, `tessera inspect` shows it, and a token the
CLI signs with those keys is accepted by the plugin over HTTP."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import World

SLUG = "tessera-stock-tools"
LABEL = f"inventree-plugin:{SLUG}"


@pytest.fixture(scope="module")
def cli(repo_root: Path) -> Path:
    """The `tessera` CLI: $TESSERA_CLI, else built with cargo."""
    given = os.environ.get("TESSERA_CLI")
    if given:
        return Path(given)
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.fail("cargo is needed to build the tessera CLI (or set TESSERA_CLI)")
    subprocess.run(
        [cargo, "build", "--quiet", "-p", "tessera-client", "--bin", "tessera"],
        cwd=repo_root,
        check=True,
        timeout=1200,
    )
    return Path(os.environ.get("CARGO_TARGET_DIR", repo_root / "target")) / "debug" / "tessera"


@pytest.fixture(scope="module")
def derived(world: World, cli: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`tessera derive` from the site's SECRET_KEY (through an environment variable)."""
    out = tmp_path_factory.mktemp("cli") / "derived.json"
    secret = (world.inv.data / "secret_key.txt").read_text().strip()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SITE_SECRET": secret}
    r = subprocess.run(
        [str(cli), "derive", "--secret-env", "SITE_SECRET", "--label", LABEL, "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert secret not in r.stdout + r.stderr + out.read_text()
    return out


def test_a_plugin_token_verifies_with_the_cli_and_inspect_shows_it(
    world: World, cli: Path, derived: Path
) -> None:
    move = world.alice.panels("stockitem", world.items["a"])[SLUG]["context"]["move"]
    r = subprocess.run(
        [
            str(cli),
            "verify",
            "--json",
            "--keys",
            str(derived),
            "--iss",
            world.inv.url,
            "--aud",
            move["action"],
            "--sub",
            str(world.alice_pk),
            move["token"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    claims = json.loads(r.stdout)["claims"]
    assert claims["dat"] == {"item": world.items["a"], "to": world.dispatch, "max": 10}
    assert claims["exp"] == move["expires"]
    # Another user as the subject: the CLI refuses it with the same code as the plugin.
    r = subprocess.run(
        [
            str(cli),
            "verify",
            "--json",
            "--keys",
            str(derived),
            "--iss",
            world.inv.url,
            "--aud",
            move["action"],
            "--sub",
            str(world.bob_pk),
            move["token"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and json.loads(r.stdout)["code"] == "wrong_subject"
    shown = subprocess.run(
        [str(cli), "inspect", move["token"]], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    for text in (move["action"], world.inv.url, "tessera+jwt", str(world.dispatch)):
        assert text in shown.stdout


def test_a_cli_signed_token_is_accepted_by_the_plugin(
    world: World, cli: Path, derived: Path
) -> None:
    item = world.items["a"]
    before = world.quantity(item)
    move = world.alice.panels("stockitem", item)[SLUG]["context"]["move"]
    dat = json.dumps({"item": item, "to": world.dispatch, "max": 10})
    r = subprocess.run(
        [
            str(cli),
            "sign",
            "--keys",
            str(derived),
            "--iss",
            world.inv.url,
            "--aud",
            move["action"],
            "--sub",
            str(world.alice_pk),
            "--payload",
            dat,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    answer = world.alice.click(move, {"quantity": 3}, token=r.stdout.strip())
    assert answer.status_code == 200, answer.text[:300]
    assert world.quantity(item) == before - 3
