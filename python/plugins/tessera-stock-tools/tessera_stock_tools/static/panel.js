// The stock tools panel: plain DOM, no build step. Its buttons carry their data in tessera
// tokens (ctx.context.move / .label / .count), rendered by the server for this user; the
// helper posts them and shows the result, or the refusal's code.
import { mountButton } from "/plugin/tessera-stock-tools/tessera.js";

function text(doc, tag, content, attrs = {}) {
  const el = doc.createElement(tag);
  el.textContent = content;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

// Two arguments: InvenTree hands us the panel's element (no React needed).
export function renderPanel(target, ctx) {
  const doc = target.ownerDocument;
  const c = ctx.context || {};
  target.replaceChildren();
  target.append(
    text(doc, "p", `Rendered by worker ${c.pid}; ${c.quantity} in stock.`, {
      "data-tessera-rendered-by": String(c.pid),
    }),
  );
  if (c.move) {
    const qty = doc.createElement("input");
    qty.type = "number";
    qty.min = "1";
    qty.max = "10";
    qty.value = "1";
    qty.dataset.tesseraInput = "quantity";
    target.append(text(doc, "label", `Pieces to move to ${c.destination.name}: `), qty);
    mountButton(target, ctx, c.move, {
      name: "move",
      label: `Move to ${c.destination.name}`,
      input: () => ({ quantity: Number(qty.value) }),
      show: (r) => `Moved ${r.moved} (worker ${r.pid}); ${r.remaining} left here`,
    });
  }
  mountButton(target, ctx, c.label, {
    name: "label",
    label: "Print label",
    show: (r) => r.label.replaceAll("\n", " · "),
  });
  const counted = doc.createElement("input");
  counted.type = "number";
  counted.min = "0";
  counted.value = String(c.quantity);
  counted.dataset.tesseraInput = "count";
  target.append(text(doc, "label", "Counted: "), counted);
  mountButton(target, ctx, c.count, {
    name: "count",
    label: "Count and adjust (once)",
    input: () => ({ count: Number(counted.value) }),
    show: (r) => `Counted ${r.counted} (was ${r.before})`,
  });
}
