/* The one client of the core socket (/ws/), shared by every live page. No build step.

   HvacLive.connect({
     streams: {messages: {url: "/api/communications/messages/?conversation=3", lastId: 41,
                          apply: function (row) {...}}},   // caught up with ?since=<last id seen>
     onEvent: function (frame) {...},        // every catalogue event (and hello, rights.changed)
     onState: function (state) {...},        // "connecting" | "live" | "reconnecting" | "offline"
     onReconnect: function () {...}          // after a reconnect, for pages that re-fetch instead
   }) -> {send(type, data) -> id, subscribe(group), state()}

   - Heartbeat watch: the server sends a frame at least every `heartbeat` seconds (told in hello);
     when none came for 2.5 of them the socket is treated as dead and replaced.
   - Reconnect with exponential backoff and full jitter (1 s doubling to 30 s), none after
     4401/4403 (signed out, forbidden), a long one after 4409 (too many sockets).
   - After every (re)connect each stream is caught up with `?since=` its last id, so a push
     missed while away is never lost; groups subscribed with subscribe() are joined again.
   - Notifications pushed live are receipted (`notification.received`); in-app notifications no
     page received yet are fetched on load, shown once, and receipted.
   - State is shown in every [data-live-status] element, labels from its data-label-* attributes
     (rendered by templates/realtime/live_status.html with {% translate %}). */
(function () {
  "use strict";
  var NOTIFICATIONS_URL = "/api/communications/notifications/";

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " " + r.status); }
      return r.json();
    });
  }

  function withSince(url, since) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(since);
  }

  function rowsOf(body) { return Array.isArray(body) ? body : (body && body.results) || []; }

  function showState(state) {
    document.querySelectorAll("[data-live-status]").forEach(function (el) {
      el.setAttribute("data-state", state);
      var label = el.getAttribute("data-label-" + state);
      if (label) { el.textContent = label; }
    });
    document.documentElement.setAttribute("data-live-state", state);
  }

  function showMissed(rows) {
    var status = document.querySelector("[data-live-status]");
    if (!rows.length || !status) { return; }
    var box = document.createElement("aside");
    box.className = "live-missed";
    box.setAttribute("role", "status");
    box.setAttribute("data-live-missed", String(rows.length));
    var title = document.createElement("strong");
    title.textContent = status.getAttribute("data-label-missed") || "";
    box.appendChild(title);
    var list = document.createElement("ul");
    rows.forEach(function (n) {
      var li = document.createElement("li");
      li.setAttribute("data-notification", String(n.id));
      li.textContent = n.title + (n.body ? " – " + n.body : "");
      list.appendChild(li);
    });
    box.appendChild(list);
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", status.getAttribute("data-label-close") || "close");
    close.addEventListener("click", function () { box.remove(); });
    box.appendChild(close);
    document.body.appendChild(box);
  }

  function connect(options) {
    options = options || {};
    var streams = options.streams || {};
    var subscriptions = {};
    var socket = null, watchdog = null, retry = null;
    var heartbeat = 25, attempt = 0, everLive = false, stopped = false, frameId = 0, state = "connecting";
    var missedShown = false;

    function setState(next) {
      state = next;
      showState(next);
      if (options.onState) { options.onState(next); }
    }

    function send(type, data) {
      if (!socket || socket.readyState !== 1) { return null; }
      frameId += 1;
      var id = "f" + frameId;
      socket.send(JSON.stringify({ type: type, id: id, data: data || {} }));
      return id;
    }

    function receipt(ids) {
      if (ids.length) { send("notification.received", { notifications: ids.slice(0, 100) }); }
    }

    function seen(stream, id) {
      var s = streams[stream];
      if (s && typeof id === "number" && (s.lastId === null || s.lastId === undefined || id > s.lastId)) { s.lastId = id; }
    }

    function catchUp(name) {
      var s = streams[name];
      if (!s.url) { return Promise.resolve(); }
      if (s.lastId === null || s.lastId === undefined) {
        // Nothing seen yet: the newest row (the API lists newest first) is where "missed" starts.
        return getJSON(s.url).then(function (body) {
          rowsOf(body).forEach(function (row) { seen(name, row.id); });
          if (s.lastId === null || s.lastId === undefined) { s.lastId = 0; }
        });
      }
      var page = function (url, left) {
        return getJSON(url).then(function (body) {
          rowsOf(body).forEach(function (row) {
            if (row.id > s.lastId) { seen(name, row.id); if (s.apply) { s.apply(row); } }
          });
          if (body && body.next && left > 0) { return page(body.next, left - 1); }
        });
      };
      return page(withSince(s.url, s.lastId), 20);
    }

    function catchUpAll() {
      return Promise.all(Object.keys(streams).map(function (name) {
        return catchUp(name).catch(function (e) { console.warn("catch-up of " + name + " failed", e); });
      })).then(function () { document.documentElement.setAttribute("data-live-caught-up", String(Date.now())); });
    }

    function loadMissed() {
      if (missedShown || options.missed === false) { return; }
      missedShown = true;
      getJSON(NOTIFICATIONS_URL + "?undelivered=true").then(function (body) {
        var rows = rowsOf(body);
        showMissed(rows);
        receipt(rows.map(function (n) { return n.id; }));
      }).catch(function () { /* not signed in to the API, or no notifications: nothing to show */ });
    }

    function armWatchdog() {
      clearTimeout(watchdog);
      watchdog = setTimeout(function () {
        // No frame for 2.5 heartbeats: the connection is dead even if the browser has not noticed.
        setState("reconnecting");
        if (socket) { socket.close(); }
      }, heartbeat * 2500 + 2000);
    }

    function schedule(code) {
      if (stopped) { return; }
      if (code === 4401 || code === 4403) { setState("offline"); return; }
      setState("reconnecting");
      var base = code === 4409 ? 60000 : Math.min(30000, 1000 * Math.pow(2, attempt));
      attempt += 1;
      var delay = base / 2 + Math.random() * base / 2;
      clearTimeout(retry);
      retry = setTimeout(open, delay);
    }

    function onFrame(frame) {
      armWatchdog();
      if (frame.type === "hello") {
        heartbeat = (frame.data && frame.data.heartbeat) || heartbeat;
        attempt = 0;
        var again = everLive;
        everLive = true;
        Object.keys(subscriptions).forEach(function (group) { send("subscribe", { group: group }); });
        setState("live");
        catchUpAll().then(function () { if (again && options.onReconnect) { options.onReconnect(); } });
        loadMissed();
      } else if (frame.stream && typeof frame.id === "number") {
        var s = streams[frame.stream];
        if (s && s.lastId !== null && s.lastId !== undefined && frame.id <= s.lastId && frame.type === "message.created") {
          return;  // already applied by a catch-up
        }
        // An emergency.alert names the alert's id, not a row of the notifications stream.
        if (frame.type !== "emergency.alert") { seen(frame.stream, frame.id); }
        if (frame.type === "notification.created") { receipt([frame.id]); }
      }
      if (options.onEvent) { options.onEvent(frame); }
    }

    function open() {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      socket = new WebSocket(scheme + location.host + (options.path || "/ws/"));
      var mine = socket;
      mine.onmessage = function (msg) {
        var frame;
        try { frame = JSON.parse(msg.data); } catch (e) { return; }
        if (frame && frame.type) { onFrame(frame); }
      };
      mine.onclose = function (ev) {
        if (mine !== socket) { return; }
        clearTimeout(watchdog);
        schedule(ev.code);
      };
    }

    setState("connecting");
    if (!window.WebSocket) { setState("offline"); return null; }
    open();
    return {
      send: send,
      subscribe: function (group) { subscriptions[group] = true; return send("subscribe", { group: group }); },
      state: function () { return state; },
      stop: function () { stopped = true; clearTimeout(retry); if (socket) { socket.close(); } }
    };
  }

  window.HvacLive = { connect: connect, getJSON: getJSON };
})();
