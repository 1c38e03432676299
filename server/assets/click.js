// tessera click handler: served by tessera-server at /tessera/click.js. No dependencies.
//
// A click on a <button class="tessera-button"> posts {"token", "input"} as JSON to the
// button's data-tessera-url and writes the outcome into the panel's <output class="tessera-result">:
// the result, or the error code of a refused click, plus "rendered by" (from the nearest
// [data-tessera-rendered-by]) and "handled by" (from the Tessera-Worker response header).
// Text only (textContent): nothing from a response is ever parsed as HTML.
(function () {
  "use strict";

  function collectInput(panel) {
    if (!panel) return undefined;
    var fields = panel.querySelectorAll("[data-tessera-input]");
    if (fields.length === 0) return undefined;
    var input = {};
    for (var i = 0; i < fields.length; i++) {
      var el = fields[i];
      var name = el.getAttribute("data-tessera-input");
      var value = el.value;
      if (el.type === "number" && value.trim() !== "" && isFinite(Number(value))) {
        value = Number(value);
      }
      input[name] = value;
    }
    return input;
  }

  function summarize(body) {
    if (body === null || body === undefined) return "";
    if (typeof body === "string") return body.slice(0, 500);
    if (typeof body.message === "string") return body.message;
    var text = JSON.stringify(body);
    return text.length > 500 ? text.slice(0, 500) + "…" : text;
  }

  function show(button, output, outcome) {
    var host = button.closest("[data-tessera-rendered-by]");
    outcome.renderedBy = host ? host.getAttribute("data-tessera-rendered-by") : null;
    var parts = [];
    if (outcome.ok) {
      parts.push("✓ " + outcome.status + " " + summarize(outcome.body));
    } else {
      var detail = outcome.body && typeof outcome.body === "object" ? outcome.body.detail : "";
      parts.push("✗ " + (outcome.status || "") + " " + outcome.code + (detail ? ": " + detail : ""));
    }
    if (outcome.renderedBy) parts.push("rendered by " + outcome.renderedBy);
    if (outcome.worker) parts.push("handled by " + outcome.worker);
    if (output) {
      output.textContent = parts.join(" · ");
      output.setAttribute("data-tessera-status", outcome.ok ? "ok" : "error");
      output.setAttribute("data-tessera-code", outcome.ok ? "" : outcome.code);
      if (outcome.worker) output.setAttribute("data-tessera-worker", outcome.worker);
      else output.removeAttribute("data-tessera-worker");
    }
    button.dispatchEvent(new CustomEvent("tessera:result", { bubbles: true, detail: outcome }));
  }

  function click(button) {
    var panel = button.closest(".tessera-panel");
    var output = panel ? panel.querySelector(".tessera-result") : null;
    var payload = { token: button.getAttribute("data-tessera-token") };
    var input = collectInput(panel);
    if (input !== undefined) payload.input = input;
    button.disabled = true;
    if (output) {
      output.textContent = "…";
      output.setAttribute("data-tessera-status", "pending");
    }
    fetch(button.getAttribute("data-tessera-url"), {
      method: button.getAttribute("data-tessera-method") || "POST",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json, application/problem+json"
      },
      body: JSON.stringify(payload),
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      var worker = response.headers.get("Tessera-Worker");
      var type = response.headers.get("Content-Type") || "";
      var read = type.indexOf("json") >= 0 ? response.json() : response.text();
      return read.catch(function () { return null; }).then(function (body) {
        var code = "";
        if (!response.ok) {
          code = body && typeof body === "object" && body.code ? body.code : "http_" + response.status;
        }
        return { ok: response.ok, status: response.status, code: code, body: body, worker: worker };
      });
    }, function () {
      return { ok: false, status: 0, code: "network_error", body: null, worker: null };
    }).then(function (outcome) {
      button.disabled = false;
      show(button, output, outcome);
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target && target.closest ? target.closest("button.tessera-button") : null;
    if (!button || button.disabled) return;
    event.preventDefault();
    click(button);
  });
})();
