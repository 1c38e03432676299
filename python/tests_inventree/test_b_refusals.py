"""Refusals over HTTP through InvenTree's whole stack (gunicorn, InvenTree's middleware,
Django's CSRF protection, the plugin's URL): each with its status and stable code, and no
stock moved by any of them."""

from __future__ import annotations

from typing import Any

import tessera
from conftest import INITIAL, World

SLUG = "tessera-stock-tools"
#: The documented derivation label of a plugin's keys (tessera.inventree.key_label).
LABEL = f"inventree-plugin:{SLUG}"


def site_keys(world: World) -> tessera.KeySet:
    """The plugin's keys, derived as every worker derives them: from InvenTree's SECRET_KEY
    (its secret key file) and the plugin's label."""
    secret = (world.inv.data / "secret_key.txt").read_text().strip()
    return tessera.KeySet.derive(secret.encode(), LABEL)


def flipped(token: str) -> str:
    """One character of the signature changed (away from its last, padding-bit character)."""
    i = len(token) - 10
    return token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]


def buttons(world: World) -> dict[str, Any]:
    ctx: dict[str, Any] = world.alice.panels("stockitem", world.items["refusals"])[SLUG]["context"]
    return ctx


def assert_problem(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, f"{r.status_code} {r.text[:300]}"
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json()["code"] == code


def test_another_users_token_is_wrong_subject(world: World) -> None:
    move = buttons(world)["move"]
    assert_problem(world.bob.click(move, {"quantity": 1}), 403, "wrong_subject")
    assert world.quantity(world.items["refusals"]) == INITIAL


def test_a_flipped_byte_is_bad_signature(world: World) -> None:
    move = buttons(world)["move"]
    r = world.alice.click(move, {"quantity": 1}, token=flipped(move["token"]))
    assert_problem(r, 401, "bad_signature")
    assert world.quantity(world.items["refusals"]) == INITIAL


def test_an_expired_token_is_expired(world: World) -> None:
    move = buttons(world)["move"]
    claims = tessera.inspect(move["token"]).claims
    assert claims is not None
    old = tessera.mint(
        site_keys(world),
        iss=claims["iss"],
        aud=claims["aud"],
        sub=claims["sub"],
        dat=claims["dat"],
        ttl=60,
        now=claims["iat"] - 3600,
    )
    assert_problem(world.alice.click(move, {"quantity": 1}, token=old), 401, "expired")
    assert world.quantity(world.items["refusals"]) == INITIAL


def test_a_token_for_another_action_is_wrong_audience(world: World) -> None:
    ctx = buttons(world)
    assert ctx["label"]["action"] == f"plugin:{SLUG}/action:label"
    r = world.alice.click(ctx["move"], {"quantity": 1}, token=ctx["label"]["token"])
    assert_problem(r, 403, "wrong_audience")
    assert world.quantity(world.items["refusals"]) == INITIAL


def test_no_csrf_header_is_refused_by_django(world: World) -> None:
    move = buttons(world)["move"]
    seen = world.inv.log.read_text(errors="replace").count("CSRF token missing")
    r = world.alice.click(move, {"quantity": 1}, csrf=False)
    assert r.status_code == 403
    # Django's refusal (InvenTree's "Permission Denied" page), not tessera's problem+json.
    assert not r.headers["Content-Type"].startswith("application/problem+json")
    assert world.inv.log.read_text(errors="replace").count("CSRF token missing") > seen
    assert world.quantity(world.items["refusals"]) == INITIAL


def test_a_1_mib_body_is_too_large(world: World) -> None:
    move = buttons(world)["move"]
    r = world.alice.click(move, {"quantity": 1, "pad": "x" * (1 << 20)})
    assert_problem(r, 413, "too_large")
    assert world.quantity(world.items["refusals"]) == INITIAL


def test_the_same_button_works_after_the_refusals(world: World) -> None:
    ctx = buttons(world)
    r = world.alice.click(ctx["move"], {"quantity": 2})
    assert r.status_code == 200, r.text[:300]
    assert world.quantity(world.items["refusals"]) == INITIAL - 2
    label = world.alice.click(ctx["label"])
    assert label.status_code == 200, label.text[:300]
    printed = label.json()
    assert "Widget" in printed["label"] and f"Qty {INITIAL - 2}" in printed["label"]
    # Printed by InvenTree's label machinery: a PDF in InvenTree's media folder.
    assert printed["complete"] and printed["output"].endswith(".pdf"), printed
    assert (world.inv.data / "media" / printed["output"]).read_bytes().startswith(b"%PDF")
