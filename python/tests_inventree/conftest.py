"""Fixtures of the InvenTree end-to-end suite: one InvenTree (4 gunicorn workers, Redis as its
cache, the two plugins active) for the whole session, and its test data created through
InvenTree's REST API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from client import Browser
from harness import ADMIN, InvenTree, Redis, cache_dir

PASSWORD = "Tessera-e2e-9f3k2"
INITIAL = 1000


@dataclass
class World:
    """The test data: two users, a part, two locations and stock items."""

    inv: InvenTree
    admin: Browser
    alice: Browser
    bob: Browser
    alice_pk: int
    bob_pk: int
    part: int
    shelf: int
    dispatch: int
    items: dict[str, int]

    def quantity(self, item: int) -> float:
        return float(self.admin.api("GET", f"/api/stock/{item}/")["quantity"])

    def quantity_at(self, location: int) -> float:
        rows = self.admin.api("GET", f"/api/stock/?location={location}&part={self.part}")
        rows = rows["results"] if isinstance(rows, dict) else rows
        return float(sum(float(r["quantity"]) for r in rows))


@pytest.fixture(scope="session")
def redis() -> Iterator[Redis]:
    r = Redis()
    r.start()
    try:
        yield r
    finally:
        r.stop()


@pytest.fixture(scope="session")
def inventree(tmp_path_factory: pytest.TempPathFactory, redis: Redis) -> Iterator[InvenTree]:
    inv = InvenTree(tmp_path_factory.mktemp("inventree"), redis)
    t0 = time.monotonic()
    try:
        inv.prepare()
        inv.start()
        inv.timings["setup_total"] = time.monotonic() - t0
        yield inv
    finally:
        inv.stop()
        report = cache_dir() / "last-run-timings.json"
        report.write_text(json.dumps({k: round(v, 1) for k, v in inv.timings.items()}))
        print(f"\nInvenTree timings (s): {report.read_text()}")


def _user(admin: Browser, name: str) -> int:
    pk: int = admin.api(
        "POST",
        "/api/user/",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "first_name": name.title(),
            "last_name": "Tester",
            "is_staff": True,
            "is_superuser": True,
            "is_active": True,
        },
    )["pk"]
    admin.api(
        "PUT",
        f"/api/user/{pk}/set-password/",
        json={"password": PASSWORD, "override_warning": True},
    )
    return pk


def stock_item(admin: Browser, part: int, location: int, quantity: int) -> int:
    made: Any = admin.api(
        "POST", "/api/stock/", json={"part": part, "location": location, "quantity": quantity}
    )
    # The stock API answers a list of created items (or one item).
    row = made[0] if isinstance(made, list) else made
    return int(row["pk"])


@pytest.fixture(scope="session")
def world(inventree: InvenTree) -> World:
    t0 = time.monotonic()
    admin = Browser.login(inventree.url, *ADMIN)
    alice_pk = _user(admin, "alice")
    bob_pk = _user(admin, "bob")
    shelf = admin.api("POST", "/api/stock/location/", json={"name": "Shelf A"})["pk"]
    dispatch = admin.api("POST", "/api/stock/location/", json={"name": "Dispatch"})["pk"]
    part = admin.api(
        "POST",
        "/api/part/",
        json={
            "name": "Widget",
            "description": "a part moved by tessera buttons",
            "component": True,
            "active": True,
        },
    )["pk"]
    items = {
        name: stock_item(admin, part, shelf, INITIAL)
        for name in ("a", "b", "refusals", "count", "count_down", "kill", "restart", "browser")
    }
    world = World(
        inventree,
        admin,
        Browser.login(inventree.url, "alice", PASSWORD),
        Browser.login(inventree.url, "bob", PASSWORD),
        alice_pk,
        bob_pk,
        part,
        shelf,
        dispatch,
        items,
    )
    inventree.timings["test_data"] = time.monotonic() - t0
    return world


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
