/* Live parts of the portal over the shared socket client (static/js/live.js): visit status,
   technician and ETA on `job.updated`, the unread badge on `notification.created`, new messages on
   `message.created`. A reconnect re-fetches the visits shown and catches the notifications up with
   `?since=`, so nothing missed stays stale. Other scripts listen to `portal:event` and use
   window.portalLive (send, subscribe). */
(function () {
  "use strict";
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

  if (!window.HvacLive) { return; }
  window.portalLive = window.HvacLive.connect({
    streams: { notifications: { url: "/api/communications/notifications/", lastId: null, apply: bumpBadge } },
    onState: function (state) {
      document.documentElement.setAttribute("data-live", state === "live" ? "1" : "0");
      if (state === "live") { document.dispatchEvent(new CustomEvent("portal:connected")); }
    },
    onReconnect: function () { document.querySelectorAll(".live-visit").forEach(refreshVisit); },
    onEvent: onEvent
  });
})();
