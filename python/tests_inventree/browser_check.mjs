// The real-browser check (opt-in, test_h_browser.py): headless Chromium (Debian's package)
// driven by playwright-core signs in to InvenTree's own web UI, opens a stock item's page,
// opens the tessera panel and clicks its button several times (a fresh page load, in a
// fresh browser context — fresh connections — before each click), clicks the single-use
// button twice (the second is refused as `replayed` and the helper makes InvenTree render
// the panel again, whose fresh button then works), and clicks the naive panel's button on
// alternating items until it fails. Prints one JSON document of what the pages showed.
//
//   node browser_check.mjs TOOLS_DIR BASE_URL USER PASSWORD ITEM OTHER_ITEM
import { createRequire } from "node:module";

const [tools, base, username, password, item, other] = process.argv.slice(2);
const require = createRequire(`${tools}/`);
const { chromium } = require("playwright-core");

const TIMEOUT = 90_000;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
const report = { login: false, moves: [], count: [], naive: [], errors: [] };

async function fresh(state) {
  const context = await browser.newContext(state ? { storageState: state } : {});
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  page.on("pageerror", (e) => report.errors.push(String(e)));
  return { context, page };
}

async function openTab(page, pk, tab) {
  await page.goto(`${base}/web/stock/item/${pk}/`, { waitUntil: "networkidle" });
  await page.getByLabel(/panel-tabs-/).getByRole("tab", { name: tab }).click();
}

async function outcome(page, selector) {
  const out = page.locator(selector);
  await out.and(page.locator('[data-state="ok"], [data-state="refused"], [data-state="failed"]'))
    .waitFor();
  return { state: await out.getAttribute("data-state"), text: await out.textContent() };
}

try {
  // Sign in through the login page, as a user does.
  let { context, page } = await fresh(null);
  await page.goto(`${base}/web/login`, { waitUntil: "networkidle" });
  await page.getByLabel("username").fill(username);
  await page.getByLabel("password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("link", { name: "Dashboard" }).waitFor();
  report.login = true;
  const state = await context.storageState();
  await context.close();

  // The tessera panel's move button, once per page load.
  for (let i = 0; i < 4; i++) {
    ({ context, page } = await fresh(state));
    await openTab(page, item, "Stock tools (tessera)");
    const rendered = await page.locator("[data-tessera-rendered-by]").getAttribute(
      "data-tessera-rendered-by",
    );
    await page.locator('[data-tessera="move"] button').click();
    const result = await outcome(page, '[data-tessera-output="move"]');
    report.moves.push({ rendered, ...result });
    await context.close();
  }

  // The single-use button twice on one render: replayed, then a fresh render works.
  ({ context, page } = await fresh(state));
  await openTab(page, item, "Stock tools (tessera)");
  await page.locator('[data-tessera-input="count"]').fill("321");
  await page.locator('[data-tessera="count"] button').click();
  report.count.push(await outcome(page, '[data-tessera-output="count"]'));
  // The refusal is on screen only until the fresh panel replaces it: record every text the
  // count output shows while it is refused.
  await page.evaluate(() => {
    window.__refused = [];
    new MutationObserver(() => {
      const out = document.querySelector('[data-tessera-output="count"][data-state="refused"]');
      if (out && out.textContent && !window.__refused.includes(out.textContent)) {
        window.__refused.push(out.textContent);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true,
      attributes: true });
  });
  await page.locator('[data-tessera="count"] button').click();
  await page.waitForFunction(() => window.__refused.some((t) => t.includes("fresh button")));
  const seen = await page.evaluate(() => window.__refused);
  report.count.push({ state: "refused", text: seen[seen.length - 1] });
  // The helper asked InvenTree for the panels again: a new panel with an unused button.
  await page.locator('[data-tessera-output="count"]:not([data-state])').waitFor({ state: "attached" });
  await page.locator('[data-tessera-input="count"]').fill("320");
  await page.locator('[data-tessera="count"] button').click();
  report.count.push(await outcome(page, '[data-tessera-output="count"]'));
  await context.close();

  // The naive panel, on alternating items, until it fails (or 16 tries).
  for (let i = 0; i < 16; i++) {
    ({ context, page } = await fresh(state));
    const pk = i % 2 ? other : item;
    await openTab(page, pk, "Naive panel");
    await page.getByRole("button", { name: "Naive click" }).click();
    const result = await outcome(page, '[data-naive-output="click"]');
    report.naive.push({ item: pk, ...result });
    await context.close();
    if (result.state === "failed") break;
  }
} catch (e) {
  report.errors.push(String(e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
