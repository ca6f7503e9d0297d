// Audit dashboard: polls the health JSON and redraws the health rows (no inline script: CSP).
(function () {
  "use strict";
  var table = document.getElementById("audit-health");
  if (!table) { return; }
  var url = table.getAttribute("data-url");
  var interval = parseInt(table.getAttribute("data-interval"), 10) || 15000;

  function cell(text) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    return td;
  }
  function badge(state) {
    var span = document.createElement("span");
    span.className = "state state-" + state;
    span.textContent = state;
    return span;
  }
  function draw(data) {
    var body = table.querySelector("tbody");
    body.textContent = "";
    (data.integrations || []).forEach(function (row) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-key", row.key);
      tr.appendChild(cell(row.label));
      var st = document.createElement("td");
      st.appendChild(badge(row.state));
      tr.appendChild(st);
      tr.appendChild(cell(row.success_rate === null ? null : row.success_rate + " %"));
      tr.appendChild(cell("> " + row.threshold + " %"));
      tr.appendChild(cell(row.p50_ms));
      tr.appendChild(cell(row.p95_ms));
      tr.appendChild(cell(row.backlog));
      tr.appendChild(cell((row.reasons || []).join("; ")));
      var errors = cell("");
      errors.className = "errors";
      errors.textContent = (row.last_errors || []).map(function (e) {
        return "#" + e.id + " " + e.kind + ": " + (e.error || "").slice(0, 120);
      }).join("\n");
      errors.style.whiteSpace = "pre-line";
      tr.appendChild(errors);
      body.appendChild(tr);
    });
    var overall = document.getElementById("audit-overall");
    overall.className = "state state-" + data.state;
    overall.textContent = data.state;
    document.getElementById("audit-computed").textContent = data.computed_at || "";
    var stale = document.getElementById("audit-stale");
    var isStale = data.stale || (data.stale_backends && data.stale_backends.length);
    stale.hidden = !isStale;
    document.getElementById("audit-stale-detail").textContent =
      (data.error || "") + " " + (data.stale_backends || []).join(", ");
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { draw(data); } })
      .catch(function () {
        document.getElementById("audit-stale").hidden = false;
      });
  }
  window.setInterval(poll, interval);
})();
