"""The panels' JavaScript as InvenTree serves it: each plugin's panel file (collected by
`manage.py collectplugins`, served by InvenTree's WhiteNoise) and tessera's helper, which
every TesseraMixin plugin serves at /plugin/<slug>/tessera.js; and the helper's behaviour
run by Node.js against a stand-in for InvenTree's `ctx` (post through ctx.api, the refusal's
code, a fresh render on `expired`/`replayed`)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import World

SLUG = "tessera-stock-tools"


def test_panel_files_and_the_helper_are_served_as_javascript(world: World) -> None:
    panels = world.alice.panels("stockitem", world.items["a"])
    for slug in (SLUG, "naive-panel"):
        source = panels[slug]["source"].split(":")[0]
        r = world.alice.request("GET", source)
        assert r.status_code == 200, (source, r.status_code)
        assert "javascript" in r.headers["Content-Type"]
        assert "export function renderPanel(target, ctx)" in r.text
    panel = world.alice.request("GET", panels[SLUG]["source"].split(":")[0]).text
    assert f'from "/plugin/{SLUG}/tessera.js"' in panel
    helper = world.alice.request("GET", f"/plugin/{SLUG}/tessera.js")
    assert helper.status_code == 200
    assert helper.headers["Content-Type"].startswith("text/javascript")
    assert "export function mountButton" in helper.text


NODE_SCRIPT = r"""
const helper = await import(process.argv[1]);
const calls = [];
let posted = 0;
const answers = [
  { status: 200, data: { moved: 2 } },
  { status: 401, data: { code: "expired", status: 401 } },
  { status: 409, data: { code: "replayed", status: 409 } },
  { status: 403, data: { code: "wrong_subject", status: 403 } },
];
const ctx = {
  api: { post: async (url, body, cfg) => {
    calls.push({ url, body, accepts500: cfg.validateStatus(500) });
    return answers[posted++];
  } },
  queryClient: { invalidateQueries: (q) => calls.push({ invalidated: q.queryKey }) },
};
const button = { token: "t.o.k", url: "/plugin/x/move/" };
const out = [];
for (let i = 0; i < 4; i++) {
  const a = await helper.post(ctx, button, { quantity: 2 });
  const code = a.status < 300 ? "ok" : helper.refusalCode(a);
  const renewed = helper.RENEW.has(code) ? helper.rerender(ctx) : false;
  out.push({ status: a.status, code, renewed });
}
const cookie = helper.csrfToken({ cookie: "a=b; csrftoken=abc%3D1; c=d" });
console.log(JSON.stringify({ out, calls, cookie }));
"""


def test_the_helper_posts_through_ctx_api_and_rerenders_on_expired_or_replayed(
    world: World, tmp_path: Path
) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    helper = world.alice.request("GET", f"/plugin/{SLUG}/tessera.js").text
    path = tmp_path / "tessera.mjs"
    path.write_text(helper)
    r = subprocess.run(
        [node, "--input-type=module", "-e", NODE_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [o["code"] for o in doc["out"]] == ["ok", "expired", "replayed", "wrong_subject"]
    assert [o["renewed"] for o in doc["out"]] == [False, True, True, False]
    posts = [c for c in doc["calls"] if "url" in c]
    assert all(c["body"] == {"token": "t.o.k", "input": {"quantity": 2}} for c in posts)
    assert all(c["accepts500"] for c in posts)
    assert [c["invalidated"] for c in doc["calls"] if "invalidated" in c] == [
        ["custom-plugin-panels"],
        ["custom-plugin-panels"],
    ]
    assert doc["cookie"] == "abc=1"
