/* The day board: place each stop on the lane's time axis (06:00-22:00); drag a job (a tray row or
   a stop) onto a technician's lane at a time to place it there (POST board/place/, the server checks
   skills, certificates and overlaps and answers in JSON); and keep the board live
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
  if (!board) { return; }
  var note = document.querySelector(".board-message");
  function say(text, bad) {
    if (!note) { return; }
    note.textContent = text; note.hidden = false; note.classList.toggle("errornote", !!bad);
  }
  // Delegated on the document: the live reload swaps the tables, the handlers stay.
  document.addEventListener("dragstart", function (e) {
    var el = e.target.closest && e.target.closest("[data-job][draggable=true]");
    if (!el) { return; }
    e.dataTransfer.setData("text/plain", el.dataset.job);
    e.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", function (e) {
    if (e.target.closest && e.target.closest("table.board td.lane")) { e.preventDefault(); }
  });
  document.addEventListener("drop", function (e) {
    var lane = e.target.closest && e.target.closest("table.board td.lane");
    if (!lane) { return; }
    e.preventDefault();
    var job = e.dataTransfer.getData("text/plain");
    var box = lane.getBoundingClientRect();
    var m = FROM + Math.round((e.clientX - box.left) / box.width * (TO - FROM) / 15) * 15;
    m = Math.max(FROM, Math.min(TO - 15, m));
    var hhmm = ("0" + Math.floor(m / 60)).slice(-2) + ":" + ("0" + m % 60).slice(-2);
    placeJob(job, lane.closest("tr").dataset.technician, hhmm);
  });
  function placeJob(job, technician, hhmm) {
    var table = document.querySelector("table.board");
    var body = new FormData();
    body.append("job", job);
    body.append("technician", technician);
    body.append("start", table.dataset.day + "T" + hhmm);
    body.append("day", table.dataset.day);
    var token = document.querySelector("#board-csrf [name=csrfmiddlewaretoken]");
    fetch(table.dataset.placeUrl, { method: "POST", body: body, credentials: "same-origin",
                                    headers: { "X-CSRFToken": token ? token.value : "" } })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (answer.ok) { say("#" + answer.job + " " + answer.start.slice(11, 16) + "–" + answer.end.slice(11, 16), false); reload(); }
        else { say(answer.error, true); }
      });
  }
  window.HvacBoard = { place: placeJob };  // the browser test and keyboard users place without a mouse
  if (!window.HvacLive) { return; }
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
      // Another day's plan (the nightly plan of the next days: a push per route) leaves this board as it is.
      if (ev.type === "route.updated" && ev.data && ev.data.day && ev.data.day !== board.dataset.day) { return; }
      if (ev.type === "job.updated" || ev.type === "booking.created" || ev.type === "route.updated") { reload(); }
    }
  });
})();
