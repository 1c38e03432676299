"""InvenTree as installed by default: no Redis, so its cache is per process (LocMemCache).
The plugin's ordinary buttons work on every worker; its single-use button is refused with
503 `replay_unavailable` — never run without a guard every worker shares — and no stock
changes. This second site also gives the plugin a key file (`TESSERA_KEY_FILE_<SLUG>`)
instead of the keys derived from SECRET_KEY, and leaves naive-panel out of
INVENTREE_PLUGINS_MANDATORY to show what activating a plugin at runtime does: the workers
that did not serve the activation answer its URLs with the catch-all redirect (302 to /web)
of plugin/urls.py, since the URL resolver never reaches the registry's reload check."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from client import Browser
from harness import ADMIN, InvenTree

import tessera
from conftest import INITIAL, stock_item

SLUG = "tessera-stock-tools"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "stock-tools-keys.json"
    path.write_text(tessera.KeySet.generate("HS256").to_json())
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, key_file: Path) -> Iterator[InvenTree]:
    inv = InvenTree(
        tmp_path_factory.mktemp("inventree-plain"), None, static=False, mandatory=[SLUG]
    )
    inv.extra_env["TESSERA_KEY_FILE_TESSERA_STOCK_TOOLS"] = str(key_file)
    try:
        inv.prepare()
        inv.start()
        yield inv
    finally:
        inv.stop()


def test_without_a_shared_cache_single_use_is_503_and_other_buttons_work(
    plain: InvenTree, key_file: Path
) -> None:
    admin = Browser.login(plain.url, *ADMIN)
    shelf = admin.api("POST", "/api/stock/location/", json={"name": "Shelf"})["pk"]
    admin.api("POST", "/api/stock/location/", json={"name": "Dispatch"})
    part = admin.api(
        "POST", "/api/part/", json={"name": "Gadget", "description": "x", "component": True}
    )["pk"]
    item = stock_item(admin, part, shelf, INITIAL)
    ctx = admin.panels("stockitem", item)[SLUG]["context"]
    r = admin.click(ctx["count"], {"count": 5})
    assert r.status_code == 503, r.text[:300]
    assert r.json()["code"] == "replay_unavailable"
    assert float(admin.api("GET", f"/api/stock/{item}/")["quantity"]) == INITIAL
    moved = [admin.click(ctx["move"], {"quantity": 1}) for _ in range(8)]
    assert [m.status_code for m in moved] == [200] * 8
    assert float(admin.api("GET", f"/api/stock/{item}/")["quantity"]) == INITIAL - 8
    # The tokens are the key file's, not the SECRET_KEY derivation's.
    move = ctx["move"]
    claims = tessera.verify(
        move["token"],
        tessera.KeySet.from_file(key_file),
        iss=plain.url,
        aud=move["action"],
        sub=str(admin_pk(admin)),
    )
    assert claims.dat["item"] == item
    secret = (plain.data / "secret_key.txt").read_text().strip()
    derived = tessera.KeySet.derive(secret.encode(), f"inventree-plugin:{SLUG}")
    with pytest.raises(tessera.TesseraError) as e:
        tessera.verify(
            move["token"], derived, iss=plain.url, aud=move["action"], sub=str(admin_pk(admin))
        )
    assert e.value.code == "unknown_key"


def admin_pk(admin: Browser) -> int:
    pk: int = admin.api("GET", "/api/user/me/")["pk"]
    return pk


def test_a_plugin_activated_at_runtime_is_missing_from_other_workers_urls(
    plain: InvenTree,
) -> None:
    admin = Browser.login(plain.url, *ADMIN)
    naive = admin.api("GET", "/api/plugins/naive-panel/")
    assert naive["active"] is False
    admin.api("PATCH", "/api/plugins/naive-panel/activate/", json={"active": True})
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda _: admin.request("POST", "/plugin/naive-panel/click/", json={}), range(32)
            )
        )
    redirected = [r for r in answers if r.status_code == 302]
    statuses = sorted(r.status_code for r in answers)
    print(f"\nright after activation, /plugin/naive-panel/click/ answered: {statuses}")
    # Some worker still has the URL patterns from before the activation.
    assert redirected, [r.status_code for r in answers]
    assert all(r.headers["Location"].rstrip("/").endswith("/web") for r in redirected)
    # The worker that served the activation has the plugin's URL (it answers the view: 409,
    # no panel rendered there, or 200).
    assert any(r.status_code in (200, 409) for r in answers), [r.status_code for r in answers]
