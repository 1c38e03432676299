"""Workers that die and servers that restart: nothing of a button lives in a process.

- `kill -9` of one gunicorn worker during a run of clicks: gunicorn forks a new one, and the
  clicks after it keep succeeding (the ones in flight on the killed worker may fail: their
  connection is cut);
- a token minted before a full restart of InvenTree (every process stopped) is accepted
  after it.
"""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from conftest import INITIAL, World

SLUG = "tessera-stock-tools"


def click_once(world: World, move: dict[str, Any], n: int) -> tuple[int, Any]:
    try:
        r = world.alice.click(move, {"quantity": n})
    except OSError as e:  # the connection was cut by the kill
        return (n, e)
    return (n, r.status_code if r.status_code != 200 else r.json())


def test_kill_9_of_a_worker_during_clicks_later_clicks_succeed(world: World) -> None:
    item = world.items["kill"]
    move = world.alice.panels("stockitem", item)[SLUG]["context"]["move"]
    pids = world.inv.worker_pids()
    victim = pids[0]
    with ThreadPoolExecutor(4) as pool:
        during = [pool.submit(click_once, world, move, 1) for _ in range(40)]
        time.sleep(0.5)
        os.kill(victim, signal.SIGKILL)
        results = [f.result() for f in during]
    # gunicorn replaces the worker.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = world.inv.worker_pids()
        if victim not in now and len(now) == len(pids):
            break
        time.sleep(0.2)
    assert victim not in world.inv.worker_pids()
    after = [click_once(world, move, 2) for _ in range(12)]
    with ThreadPoolExecutor(4) as pool:
        after += list(pool.map(lambda _: click_once(world, move, 2), range(12)))
    assert all(isinstance(r, dict) and r["moved"] == 2 for _, r in after), after
    assert len({r["pid"] for _, r in after}) >= 2
    # Every accepted click moved its pieces; a click cut by the kill moved them or not.
    accepted = sum(n for n, r in results + after if isinstance(r, dict))
    cut = sum(n for n, r in results if not isinstance(r, dict))
    taken = INITIAL - world.quantity(item)
    assert accepted <= taken <= accepted + cut, (accepted, cut, taken)


def test_a_token_minted_before_a_full_restart_is_accepted_after_it(world: World) -> None:
    item = world.items["restart"]
    ctx = world.alice.panels("stockitem", item)[SLUG]["context"]
    old_pids = set(world.inv.worker_pids())
    world.inv.restart()
    assert not old_pids & set(world.inv.worker_pids())
    r = world.alice.click(ctx["move"], {"quantity": 4})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["pid"] not in old_pids
    assert world.quantity(item) == INITIAL - 4
    # And the single-use button rendered before the restart still counts, once.
    assert world.alice.click(ctx["count"], {"count": 99}).status_code == 200
    assert world.alice.click(ctx["count"], {"count": 98}).json()["code"] == "replayed"
    assert world.quantity(item) == 99
