"""200 clicks on a real InvenTree with 4 gunicorn workers: every tessera click succeeds on
whichever worker gets it, the naive (#9363) panel fails on some, and InvenTree's own stock
quantities afterwards equal exactly what the accepted clicks moved."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from conftest import INITIAL, World

CLICKS = 200
CLICKS_PER_RENDER = 5
THREADS = 8


@dataclass
class Tally:
    """What the clicks did, gathered from every thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    render_pids: set[int] = field(default_factory=set)
    click_pids: set[int] = field(default_factory=set)
    crossed: int = 0
    moved: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    naive_ok: int = 0
    naive_failed: int = 0

    def add(self, **kw: Any) -> None:
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)


def one_render(world: World, item: int, seed: int, tally: Tally) -> None:
    """A user opens the stock item's page (one panel render) and clicks its buttons."""
    rnd = random.Random(seed)
    panels = world.alice.panels("stockitem", item)
    ctx = panels["tessera-stock-tools"]["context"]
    naive = panels["naive-panel"]["context"]
    with tally.lock:
        tally.render_pids.add(ctx["pid"])
        tally.render_pids.add(naive["pid"])
    for _ in range(CLICKS_PER_RENDER):
        n = rnd.randint(1, 3)
        r = world.alice.click(ctx["move"], {"quantity": n})
        if r.status_code != 200:
            with tally.lock:
                tally.failures.append(f"tessera click: {r.status_code} {r.text[:200]}")
            continue
        body = r.json()
        assert body["moved"] == n and body["item"] == item and body["to"] == world.dispatch
        with tally.lock:
            tally.click_pids.add(body["pid"])
            tally.crossed += int(body["pid"] != ctx["pid"])
            tally.moved[item] = tally.moved.get(item, 0) + n
    # The naive panel's button, clicked once per page view.
    r = world.alice.request("POST", naive["url"], json={})
    if r.status_code == 200 and r.json()["item"] == str(item):
        tally.add(naive_ok=1)
    else:
        tally.add(naive_failed=1)


def test_200_clicks_cross_workers_and_stock_adds_up(world: World) -> None:
    items = [world.items["a"], world.items["b"]]
    before_dispatch = world.quantity_at(world.dispatch)
    tally = Tally()
    renders = CLICKS // CLICKS_PER_RENDER
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [pool.submit(one_render, world, items[i % 2], i, tally) for i in range(renders)]
        for f in futures:
            f.result()

    assert tally.failures == [], tally.failures[:5]
    assert len(tally.render_pids) >= 2, f"renders on workers {tally.render_pids}"
    assert len(tally.click_pids) >= 2, f"clicks on workers {tally.click_pids}"
    assert tally.crossed > 0, "no click was served by a worker other than its renderer"
    assert tally.naive_failed > 0, "the naive panel never failed"
    # InvenTree's own quantities: exactly what the accepted clicks moved.
    total = 0
    for item in items:
        assert world.quantity(item) == INITIAL - tally.moved[item]
        total += tally.moved[item]
    assert world.quantity_at(world.dispatch) == before_dispatch + total
    print(
        f"\n{CLICKS} clicks: renders on {sorted(tally.render_pids)}, clicks on "
        f"{sorted(tally.click_pids)}, {tally.crossed} crossed workers, moved {tally.moved}; "
        f"naive: {tally.naive_ok} ok, {tally.naive_failed} failed"
    )
