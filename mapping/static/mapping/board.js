/* The day board: place each stop on the lane's time axis (06:00-22:00), and keep the board live
   over the shared socket client (static/js/live.js): a job, booking or route change, or a
   reconnect (changes missed while away), re-fetches the board and swaps its two tables in. */
(function () {
  "use strict";
  var FROM = 6 * 60, TO = 22 * 60;
  function minutes(iso) { var t = iso.slice(11, 16).split(":"); return +t[0] * 60 + +t[1]; }
  function place() {
    document.querySelectorAll(".lane .stop[data-start]").forEach(function (a) {
      var s = minutes(a.dataset.start), e = minutes(a.dataset.end);
      var left = Math.max(0, (s - FROM) / (TO - FROM) * 100), width = Math.max(2, (e - s) / (TO - FROM) * 100);
      a.style.left = left.toFixed(2) + "%";
      a.style.width = width.toFixed(2) + "%";
      a.classList.add("placed");
    });
  }
  place();
  var board = document.querySelector("table.board");
  if (!board || !window.HvacLive) { return; }
  var timer = null;
  function reload() {
    if (timer) { return; }
    timer = setTimeout(function () {
      timer = null;
      fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var fresh = new DOMParser().parseFromString(html, "text/html");
          ["table.board", "table.tray"].forEach(function (sel) {
            var now = document.querySelector(sel), next = fresh.querySelector(sel);
            if (now && next) { now.replaceWith(next); }
          });
          place();
          board = document.querySelector("table.board");
          board.setAttribute("data-refreshed", String(Date.now()));
        });
    }, 500);
  }
  window.HvacLive.connect({
    onState: function (state) { board.setAttribute("data-live", state === "live" ? "1" : "0"); },
    onReconnect: reload,
    onEvent: function (ev) {
      if (ev.type === "job.updated" || ev.type === "booking.created" || ev.type === "route.updated") { reload(); }
    }
  });
})();
