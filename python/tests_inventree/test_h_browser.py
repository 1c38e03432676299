"""In InvenTree's own web UI, in a real browser (opt-in: TESSERA_INVENTREE_BROWSER=1, which
python/inventree_ci.sh turns into Chromium installed, the web UI built and playwright-core
from npm): headless Chromium signs in, opens a stock item's page, sees the tessera panel,
clicks its button several times (reloading between clicks) and sees each result; the
single-use button's second click shows `replayed` and the panel comes back with a fresh
button that works; the naive panel fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PASSWORD, World

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(
    os.environ.get("TESSERA_INVENTREE_BROWSER") != "1",
    reason="the real-browser test is opt-in: TESSERA_INVENTREE_BROWSER=1",
)


def test_inventree_web_ui_shows_tessera_results_and_the_naive_failure(world: World) -> None:
    tools = os.environ.get("INVENTREE_BROWSER_TOOLS", "")
    node = shutil.which("node")
    assert node and Path(tools, "node_modules", "playwright-core").is_dir(), (
        "node and playwright-core (INVENTREE_BROWSER_TOOLS) are needed"
    )
    assert os.environ.get("INVENTREE_WEB_BUILD"), "the web UI build is needed"
    item, other = world.items["browser"], world.items["b"]
    dispatch_before = world.quantity_at(world.dispatch)
    r = subprocess.run(
        [
            node,
            str(HERE / "browser_check.mjs"),
            tools,
            world.inv.url,
            "alice",
            PASSWORD,
            str(item),
            str(other),
        ],
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads(r.stdout.strip().splitlines()[-1])
    print(f"\nbrowser: {json.dumps(report)}")
    assert report["errors"] == [], report["errors"]
    assert report["login"]
    assert len(report["moves"]) == 4
    for move in report["moves"]:
        assert move["state"] == "ok" and move["text"].startswith("Moved 1"), move
    states = [c["state"] for c in report["count"]]
    assert states == ["ok", "refused", "ok"], report["count"]
    assert "Refused: replayed" in report["count"][1]["text"]
    assert report["naive"][-1]["state"] == "failed", report["naive"]
    # InvenTree's own quantities: 4 moves of 1 to Dispatch, then the last count (320).
    assert world.quantity(item) == 320
    moved = world.admin.api("GET", f"/api/stock/track/?item={item}")
    rows = moved["results"] if isinstance(moved, dict) else moved
    assert sum(1 for t in rows if "tessera: counted" in (t.get("notes") or "")) == 2
    assert world.quantity_at(world.dispatch) == dispatch_before + 4
