// COUNTER-EXAMPLE (InvenTree #9363): the button posts nothing but the click; the server looks
// for the panel's data on `self`, in whichever worker gets the click.
function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

export function renderPanel(target, ctx) {
  const doc = target.ownerDocument;
  const c = ctx.context || {};
  target.replaceChildren();
  const note = doc.createElement("p");
  note.textContent = `Naive panel (#9363 counter-example), rendered by worker ${c.pid}.`;
  const btn = doc.createElement("button");
  btn.type = "button";
  btn.textContent = "Naive click";
  const out = doc.createElement("output");
  out.dataset.naiveOutput = "click";
  out.style.marginLeft = "0.75em";
  btn.addEventListener("click", async () => {
    const r = await fetch(c.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: "{}",
    });
    const body = await r.json().catch(() => ({}));
    const ok = r.ok && String(body.item) === String(ctx.id);
    out.dataset.state = ok ? "ok" : "failed";
    out.textContent = ok
      ? `found item ${body.item} (worker ${body.pid})`
      : `Failed: ${body.error || `item ${body.item} is not this page's`} (worker ${body.pid})`;
  });
  target.append(note, btn, out);
}
