"""The single-use "count and adjust" button with Redis as InvenTree's cache (InvenTree's own
cache settings, INVENTREE_CACHE_HOST/PORT): 20 concurrent clicks of one rendered button
change the stock exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from conftest import World

SLUG = "tessera-stock-tools"


def test_20_concurrent_clicks_of_a_single_use_button_count_once(world: World) -> None:
    item = world.items["count"]
    before = world.quantity(item)
    ctx = world.alice.panels("stockitem", item)[SLUG]["context"]
    counts = [500 + i for i in range(20)]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda c: world.alice.click(ctx["count"], {"count": c}), counts))
    accepted = [(c, r) for c, r in zip(counts, answers) if r.status_code == 200]
    refused = [r for r in answers if r.status_code != 200]
    assert len(accepted) == 1, [r.status_code for r in answers]
    assert all(r.status_code == 409 and r.json()["code"] == "replayed" for r in refused)
    count, answer = accepted[0]
    assert answer.json() == {**answer.json(), "counted": count, "before": before}
    # InvenTree's own quantity is the one accepted count, and one stocktake was recorded.
    assert world.quantity(item) == count
    tracking = world.admin.api("GET", f"/api/stock/track/?item={item}")
    rows = tracking["results"] if isinstance(tracking, dict) else tracking
    assert sum(1 for t in rows if "tessera: counted" in (t.get("notes") or "")) == 1
    # The button is used up; a freshly rendered one works again.
    again = world.alice.click(ctx["count"], {"count": 7})
    assert again.status_code == 409 and again.json()["code"] == "replayed"
    fresh = world.alice.panels("stockitem", item)[SLUG]["context"]
    assert world.alice.click(fresh["count"], {"count": 7}).status_code == 200
    assert world.quantity(item) == 7
