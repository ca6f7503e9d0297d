/* Live parts of the portal over the one socket (/ws/, session auth): visit status, technician and
   ETA on `job.updated`, the unread badge on `notification.created`, new messages on
   `message.created`. A reconnect re-fetches what the page shows, so nothing missed stays stale. */
(function () {
  "use strict";
  var delay = 1000;

  function refreshVisit(box) {
    var url = box.getAttribute("data-card-url");
    if (!url) { return; }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (card) {
        if (!card) { return; }
        box.querySelectorAll("[data-field]").forEach(function (el) {
          var key = el.getAttribute("data-field");
          if (key in card) { el.textContent = card[key] || "—"; }
        });
        box.setAttribute("data-status", card.status);
      });
  }

  function bumpBadge() {
    var badge = document.getElementById("unread-badge");
    if (!badge) { return; }
    var n = parseInt(badge.getAttribute("data-count") || "0", 10) + 1;
    badge.setAttribute("data-count", String(n));
    badge.textContent = String(n);
    badge.hidden = false;
  }

  function onEvent(event) {
    if (event.type === "hello") {  // authenticated and joined the client's groups: live from now on
      document.documentElement.setAttribute("data-live", "1");
    }
    if (event.type === "job.updated") {
      document.querySelectorAll('.live-visit[data-job="' + event.id + '"]').forEach(refreshVisit);
      document.querySelectorAll('.visit[data-job="' + event.id + '"] [data-field="status_label"]').forEach(function (el) {
        if (event.data && event.data.status) { el.setAttribute("data-status", event.data.status); }
      });
    } else if (event.type === "notification.created") {
      bumpBadge();
    }
    document.dispatchEvent(new CustomEvent("portal:event", { detail: event }));
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/");
    window.portalSocket = socket;
    socket.addEventListener("open", function () {
      delay = 1000;
      document.querySelectorAll(".live-visit").forEach(refreshVisit);
      document.dispatchEvent(new CustomEvent("portal:connected"));
    });
    socket.addEventListener("message", function (msg) {
      var event;
      try { event = JSON.parse(msg.data); } catch (e) { return; }
      if (event && event.type) { onEvent(event); }
    });
    socket.addEventListener("close", function (ev) {
      document.documentElement.setAttribute("data-live", "0");
      if (ev.code === 4401 || ev.code === 4403) { return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }

  if ("WebSocket" in window) { connect(); }
})();
