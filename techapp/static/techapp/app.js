/* The technician app (/tech/): one socket through the shared client (static/js/live.js), an action
   queue in IndexedDB, the emergency screen, positions while on shift.

   Every action (step, completion report, message, accept, decline, an offline position) is queued
   first with a UUID made here, then sent to /tech/actions/ in the order it was made; the server
   applies each id once and answers each (applied, already applied, or refused and why). Offline,
   the queue waits and the banner says how many; the "online" event and a timer send it again. */
(function () {
  "use strict";
  var root = document.getElementById("tech-app");
  if (!root) { return; }
  var STORE = "actions";
  var banner = document.getElementById("tech-queue");
  var refused = document.getElementById("tech-refused");
  var waiters = {};
  var flushing = false, lastFailed = false, waiting = 0;

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- IndexedDB: the queue survives a closed tab and a dead battery -------------------------------
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open("techapp-" + root.dataset.technician, 1);
        req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true }); };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function store(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction(STORE, mode);
        var req = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(req ? req.result : undefined); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function queued() { return store("readonly", function (s) { return s.getAll(); }); }

  function label(el, name, n) { return (el.getAttribute("data-label-" + name) || "").replace("%(n)s", String(n)); }

  function showBanner() {
    return queued().then(function (rows) {
      var n = rows.length;
      waiting = n;
      banner.hidden = n === 0;
      banner.setAttribute("data-waiting", String(n));
      var offline = !navigator.onLine || lastFailed;
      banner.textContent = label(banner, offline ? "offline" : "waiting", n);
      banner.classList.toggle("offline", offline);
    });
  }

  function showRefused(result) {
    var li = document.createElement("li");
    li.setAttribute("data-action", result.id);
    li.setAttribute("data-code", result.code || "");
    var strong = document.createElement("strong");
    strong.textContent = refused.getAttribute("data-label-title") + ": ";
    li.appendChild(strong);
    li.appendChild(document.createTextNode(result.message || result.code));
    refused.appendChild(li);
  }

  function enqueue(kind, payload) {
    var action = { id: uuid(), kind: kind, payload: payload, device_time: new Date().toISOString() };
    var answered = new Promise(function (resolve) { waiters[action.id] = resolve; });
    return store("readwrite", function (s) { return s.add(action); }).then(function () {
      showBanner();
      flush();
      return { action: action, answered: answered };
    });
  }

  function flush() {
    if (flushing || !navigator.onLine) { return showBanner(); }
    flushing = true;
    return queued().then(function (rows) {
      if (!rows.length) { return null; }
      var batch = rows.slice(0, 100).map(function (r) {
        return { id: r.id, seq: r.seq, kind: r.kind, payload: r.payload, device_time: r.device_time };
      });
      return fetch(root.dataset.actionsUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
        body: JSON.stringify({ actions: batch })
      }).then(function (r) {
        if (!r.ok) { throw new Error("replay " + r.status); }
        return r.json();
      }).then(function (body) {
        lastFailed = false;
        var answered = {};
        body.results.forEach(function (res) { answered[res.id] = res; });
        var done = rows.filter(function (r) { return answered[r.id]; });
        return store("readwrite", function (s) {
          done.forEach(function (r) { s.delete(r.seq); });
          return null;
        }).then(function () {
          done.forEach(function (r) {
            var res = answered[r.id];
            if (!res.ok) { showRefused(res); }
            if (waiters[r.id]) { waiters[r.id](res); delete waiters[r.id]; }
          });
          document.documentElement.setAttribute("data-tech-replayed", String(Date.now()));
          return body.results;
        });
      });
    }).catch(function () { lastFailed = true; }).then(function (results) {
      flushing = false;
      return showBanner().then(function () {
        if (results && results.length) {
          var changed = results.some(function (r) { return r.ok && !r.replayed && r.kind !== "position"; });
          var bad = results.some(function (r) { return !r.ok; });
          if (changed && !bad && document.getElementById("tech-job")) { refreshWanted = true; }
          return queued().then(function (rows) {
            if (rows.length) { return flush(); }
            if (refreshWanted) { refreshWanted = false; refreshJob(); }
          });
        }
        if (refreshWanted) { refreshWanted = false; refreshJob(); }
      });
    });
  }

  window.addEventListener("online", function () { lastFailed = false; flush(); });
  window.addEventListener("offline", showBanner);
  // The timer retries a queue that waits (a failed send, a server that was down); an empty queue
  // costs nothing (an IndexedDB read every 15 s on every open page did).
  setInterval(function () { if (waiting > 0 || lastFailed) { flush(); } }, 15000);
  showBanner();
  flush();

  // --- forms: queued, never posted directly while the script runs ---------------------------------
  function formPayload(form) {
    var data = {};
    new FormData(form).forEach(function (v, k) {
      if (k !== "csrfmiddlewaretoken" && k !== "kind" && k !== "action_id") { data[k] = v; }
    });
    return data;
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var kind = form.getAttribute("data-kind");
    var job = document.getElementById("tech-job");
    if (!kind || !job) { return; }
    ev.preventDefault();
    var payload = formPayload(form);
    if (ev.submitter && ev.submitter.name) { payload[ev.submitter.name] = ev.submitter.value; }
    payload.job = Number(job.dataset.job);
    enqueue(kind, payload).then(function (q) {
      if (kind === "message") {
        var li = document.createElement("li");
        li.className = "pending";
        li.setAttribute("data-action", q.action.id);
        li.textContent = payload.body;
        document.getElementById("tech-thread").appendChild(li);
        form.reset();
        q.answered.then(function (res) {
          li.classList.remove("pending");
          if (!res.ok) { return; }
          li.setAttribute("data-message", res.message);
          // The job's first message opened its conversation: follow it from now on.
          if (res.conversation && !job.dataset.conversation) {
            job.dataset.conversation = String(res.conversation);
            if (live) { live.subscribe("conversation." + res.conversation); }
          }
        });
      } else {
        form.classList.add("queued");
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }
    });
  });

  var refreshWanted = false;
  function refreshJob() {
    var text = document.getElementById("message-body");
    if (text && text.value) { return; }  // never throw away what is being typed
    if (refused.children.length) { return; }  // nor a refusal the technician has not read yet
    // Never reload under a replay in flight: its answers would be lost (and the request cut off
    // mid-batch); the page is re-drawn once the queue is sent.
    if (flushing) { refreshWanted = true; return; }
    location.reload();
  }

  // --- the days: re-drawn on a job or route change ------------------------------------------------
  function refreshDays() {
    var days = document.getElementById("tech-days");
    if (!days) { return; }
    fetch(root.dataset.stopsUrl, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) { days.innerHTML = html; document.documentElement.setAttribute("data-tech-days", String(Date.now())); }
      }).catch(function () { /* offline: the cached list stays */ });
  }

  // --- the emergency screen -----------------------------------------------------------------------
  var screen = document.getElementById("tech-alert");
  var current = null;
  function alertState(name) {
    var el = document.getElementById("tech-alert-state");
    el.setAttribute("data-state", name);
    el.textContent = el.getAttribute("data-label-" + name) || "";
    var answered = name === "taken" || name === "accepted" || name === "declined";
    document.getElementById("tech-alert-accept").hidden = answered;
    document.getElementById("tech-alert-decline").hidden = answered;
    document.getElementById("tech-alert-close").hidden = !answered;
  }
  // One audio context for the page's life, suspended between tones: a context per alert was never
  // closed, and each kept an audio thread rendering silence (50 pages: a core busy doing nothing).
  // "playback" latency: larger buffers, fewer wake-ups while it sounds.
  var audio = null, TONE_DELAY_MS = 600;
  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      audio = audio || new Ctx({ latencyHint: "playback" });
      var osc = audio.createOscillator();
      osc.frequency.value = 880;
      osc.connect(audio.destination);
      osc.onended = function () { osc.disconnect(); audio.suspend().catch(function () {}); };
      if (audio.state === "suspended") { audio.resume().catch(function () {}); }
      osc.start();
      osc.stop(audio.currentTime + 0.8);
    } catch (e) { /* no sound without a gesture on some browsers: the screen and vibration remain */ }
  }
  // After the screen is drawn: the vibration and the focus (a forced layout) must not hold back the
  // frame that shows the alert.
  function afterPaint(fn) {
    if (window.requestAnimationFrame) { requestAnimationFrame(function () { setTimeout(fn, 0); }); } else { setTimeout(fn, 0); }
  }
  function showAlert(data) {
    if (current && current.alert === data.alert && !screen.hidden) { return; }
    current = data;
    document.getElementById("tech-alert-where").textContent = data.district || "";
    document.getElementById("tech-alert-text").textContent = data.text || "";
    document.getElementById("tech-alert-reason").value = "";
    alertState("open");
    screen.setAttribute("data-alert", String(data.alert));
    screen.hidden = false;
    afterPaint(function () {
      if (current !== data || screen.hidden) { return; }
      if (navigator.vibrate) { navigator.vibrate([600, 200, 600, 200, 600]); }
      document.getElementById("tech-alert-accept").focus();
    });
    // The tone follows the screen and the vibration by TONE_DELAY_MS: starting an audio stream is
    // the costliest part of an alert (bench: ~30 ms of CPU a page; 25 pages 0.2 -> 0.8 s an alert),
    // and on a busy phone it must not compete with drawing the screen.
    setTimeout(function () { if (current === data && !screen.hidden) { beep(); } }, TONE_DELAY_MS);
  }
  function answer(kind, payload) {
    enqueue(kind, payload).then(function (q) {
      if (!navigator.onLine) { alertState("queued"); }
      q.answered.then(function (res) {
        if (res.ok) {
          alertState(kind === "accept" ? "accepted" : "declined");
          if (kind === "accept" && res.job) { screen.setAttribute("data-job", String(res.job)); }
        } else if (res.code === "already_taken") {
          alertState("taken");
        }
      });
    });
  }
  document.getElementById("tech-alert-accept").addEventListener("click", function () {
    if (current) { answer("accept", { alert: current.alert }); }
  });
  document.getElementById("tech-alert-decline").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var reason = document.getElementById("tech-alert-reason").value.trim();
    if (current && reason) { answer("decline", { alert: current.alert, reason: reason }); }
  });
  document.getElementById("tech-alert-close").addEventListener("click", function () {
    var job = screen.getAttribute("data-job");
    screen.hidden = true;
    if (job && screen.querySelector("[data-state=accepted]")) { location.href = root.dataset.scope + "jobs/" + job + "/"; }
  });

  // --- the badge ----------------------------------------------------------------------------------
  function bump() {
    var badge = document.getElementById("tech-unread");
    var n = Number(badge.getAttribute("data-count") || "0") + 1;
    badge.setAttribute("data-count", String(n));
    badge.textContent = String(n);
    badge.hidden = false;
  }

  // --- the socket ---------------------------------------------------------------------------------
  var live = window.HvacLive ? window.HvacLive.connect({
    streams: { notifications: { url: "/api/communications/notifications/", apply: bump } },
    onReconnect: refreshDays,
    onEvent: function (frame) {
      var data = frame.data || {};
      if (frame.type === "job.updated" || frame.type === "route.updated") {
        refreshDays();
        var job = document.getElementById("tech-job");
        if (job && String(data.job) === job.dataset.job && data.status !== job.dataset.status) { refreshJob(); }
      } else if (frame.type === "emergency.alert") {
        if (data.taken) {
          if (current && current.alert === data.alert && !screen.hidden) { alertState("taken"); }
        } else if (data.notification && (data.state === "open" || data.state === "escalated")) {
          showAlert(data);
        }
      } else if (frame.type === "notification.created") {
        bump();
      } else if (frame.type === "message.created") {
        var thread = document.getElementById("tech-thread");
        var page = document.getElementById("tech-job");
        if (thread && page && String(data.conversation) === page.dataset.conversation &&
            !thread.querySelector('[data-message="' + data.message + '"]')) {
          var li = document.createElement("li");
          li.setAttribute("data-message", String(data.message || frame.id));
          li.textContent = data.body || "";
          thread.appendChild(li);
        }
      }
    }
  }) : null;
  var conv = document.getElementById("tech-job");
  if (live && conv && conv.dataset.conversation) { live.subscribe("conversation." + conv.dataset.conversation); }

  fetch(root.dataset.alertsUrl, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; })
    .then(function (body) { if (body && body.alerts.length) { showAlert(body.alerts[0]); } }).catch(function () {});

  // --- positions: on shift and not private only; offline ones are history (queued actions) ---------
  if (root.dataset.onShift === "1" && root.dataset.private !== "1" && navigator.geolocation) {
    var seq = Date.now(), lastQueued = 0;
    navigator.geolocation.watchPosition(function (pos) {
      seq += 1;
      var fix = { latitude: pos.coords.latitude, longitude: pos.coords.longitude, accuracy: pos.coords.accuracy || 0,
                  device_time: new Date(pos.timestamp).toISOString(), seq: seq };
      if (live && live.state() === "live") {
        live.send("location.ping", Object.assign({ speed: pos.coords.speed, heading: pos.coords.heading }, fix));
      } else if (Date.now() - lastQueued > 60000) {
        lastQueued = Date.now();
        enqueue("position", fix);
      }
    }, function () {}, { enableHighAccuracy: true, maximumAge: 10000 });
  }

  // --- the service worker: the shell and the next days' pages kept for a day without signal --------
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.swUrl, { scope: root.dataset.scope }).catch(function () {});
  }
  if (window.caches && navigator.onLine) {
    var pages = [root.dataset.scope, root.dataset.stopsUrl];
    document.querySelectorAll("a.stop-link").forEach(function (a) { pages.push(a.getAttribute("href")); });
    caches.open("techapp-pages").then(function (c) { return c.addAll(pages); }).catch(function () {});
  }

  window.TechApp = { enqueue: enqueue, flush: flush, queued: queued };
})();
