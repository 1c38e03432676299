// tessera's panel helper for InvenTree plugins: a build-free ES module (no bundler, no React).
// A plugin's panel file imports it from the URL its TesseraMixin serves,
// /plugin/<slug>/tessera.js, and mounts one button per token of its panel context:
//
//   import { mountButton } from "/plugin/my-plugin/tessera.js";
//   export function renderPanel(target, ctx) {          // two arguments: plain DOM
//     mountButton(target, ctx, ctx.context.move, {
//       label: "Move 1",
//       input: () => ({ quantity: 1 }),
//       show: (result) => `moved ${result.moved}`,
//     });
//   }
//
// A click posts {token, input} to the button's URL through ctx.api (InvenTree's axios
// instance, which sends the X-CSRFToken header) or, outside InvenTree's UI, through fetch
// with the csrftoken cookie. The result, or the refusal's stable code, is shown beside the
// button. On `expired` or `replayed` the helper asks InvenTree to fetch the page's panels
// again: the plugin renders a fresh token and the panel is drawn anew.

/** Codes after which the button needs a freshly rendered token. */
export const RENEW = new Set(["expired", "replayed"]);

/** Django's CSRF token, from the `csrftoken` cookie. */
export function csrfToken(doc = globalThis.document) {
  const cookie = (doc && doc.cookie) || "";
  for (const part of cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "csrftoken") return decodeURIComponent(rest.join("="));
  }
  return "";
}

/**
 * Posts `{token, input}` to `button.url`; resolves to `{status, body}` (body: the JSON answer
 * or null). Never rejects on an HTTP status: refusals are answers too.
 */
export async function post(ctx, button, input) {
  const body = { token: button.token, input: input === undefined ? null : input };
  if (ctx && ctx.api && typeof ctx.api.post === "function") {
    const r = await ctx.api.post(button.url, body, { validateStatus: () => true });
    return { status: r.status, body: r.data ?? null };
  }
  const r = await fetch(button.url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body),
  });
  let parsed = null;
  try {
    parsed = await r.json();
  } catch (_) {
    parsed = null;
  }
  return { status: r.status, body: parsed };
}

/** The refusal's stable code: tessera's problem+json `code`, else the HTTP status. */
export function refusalCode(answer) {
  const b = answer.body;
  if (b && typeof b === "object" && typeof b.code === "string") return b.code;
  if (b && typeof b === "object" && typeof b.error === "string") return b.error;
  return `HTTP ${answer.status}`;
}

/** Asks InvenTree to fetch the page's plugin panels again (fresh tokens). */
export function rerender(ctx) {
  if (ctx && ctx.queryClient && typeof ctx.queryClient.invalidateQueries === "function") {
    ctx.queryClient.invalidateQueries({ queryKey: ["custom-plugin-panels"] });
    return true;
  }
  if (ctx && typeof ctx.reloadInstance === "function") {
    ctx.reloadInstance();
    return true;
  }
  return false;
}

/**
 * Adds a button and its output line to `target`. `options`: `label`, `input()` (the user's
 * input when clicked), `show(result)` (the text of a success), `name` (data-tessera name).
 * Returns the button element.
 */
export function mountButton(target, ctx, button, options = {}) {
  const doc = target.ownerDocument;
  const row = doc.createElement("div");
  const btn = doc.createElement("button");
  const out = doc.createElement("output");
  const name = options.name || (button && button.action) || "action";
  row.dataset.tessera = name;
  btn.type = "button";
  btn.textContent = options.label || "Go";
  out.dataset.tesseraOutput = name;
  out.style.marginLeft = "0.75em";
  row.append(btn, out);
  target.append(row);
  if (!button || !button.token) {
    btn.disabled = true;
    out.textContent = "unavailable";
    return btn;
  }
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    out.dataset.state = "pending";
    out.textContent = "…";
    try {
      const input = options.input ? options.input() : null;
      const answer = await post(ctx, button, input);
      if (answer.status >= 200 && answer.status < 300) {
        out.dataset.state = "ok";
        out.textContent = options.show ? options.show(answer.body) : "done";
      } else {
        const code = refusalCode(answer);
        out.dataset.state = "refused";
        out.dataset.code = code;
        out.textContent = `Refused: ${code}`;
        if (RENEW.has(code) && rerender(ctx)) out.textContent += " — getting a fresh button";
      }
    } catch (e) {
      out.dataset.state = "error";
      out.textContent = `Failed: ${e && e.message ? e.message : e}`;
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}
