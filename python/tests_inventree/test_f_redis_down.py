"""InvenTree's cache (Redis) stopped: a single-use click fails closed — 503
`replay_unavailable`, no stock changed — and the same button works once Redis is back.
(Last in the suite: it stops the Redis every other test uses, then starts it again.)"""

from __future__ import annotations

from conftest import INITIAL, World

SLUG = "tessera-stock-tools"


def test_redis_stopped_single_use_click_is_503_and_moves_nothing(world: World) -> None:
    item = world.items["count_down"]
    ctx = world.alice.panels("stockitem", item)[SLUG]["context"]
    redis = world.inv.redis
    assert redis is not None
    redis.stop()
    try:
        r = world.alice.click(ctx["count"], {"count": 3})
        assert r.status_code == 503, r.text[:300]
        assert r.json()["code"] == "replay_unavailable"
    finally:
        redis.start()
    assert world.quantity(item) == INITIAL
    # The token was never used: with the guard back, it counts (once).
    assert world.alice.click(ctx["count"], {"count": 3}).status_code == 200
    assert world.quantity(item) == 3
