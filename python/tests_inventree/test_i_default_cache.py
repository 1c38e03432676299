"""InvenTree as installed by default: no Redis, so its cache is per process (LocMemCache).
The plugin's ordinary buttons work on every worker; its single-use button is refused with
503 `replay_unavailable` — never run without a guard every worker shares — and no stock
changes. (A second site of its own, without Redis.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from client import Browser
from harness import ADMIN, InvenTree

from conftest import INITIAL, stock_item

SLUG = "tessera-stock-tools"


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InvenTree]:
    inv = InvenTree(tmp_path_factory.mktemp("inventree-plain"), None, static=False)
    try:
        inv.prepare()
        inv.start()
        yield inv
    finally:
        inv.stop()


def test_without_a_shared_cache_single_use_is_503_and_other_buttons_work(
    plain: InvenTree,
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
