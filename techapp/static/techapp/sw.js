/* The technician app's service worker (scope /tech/). The app shell is cached at install; pages and
   assets are fetched from the network first and kept, so without a signal the last copy answers.
   Writes (POST) are never cached nor replayed here: the page queues them in IndexedDB. */
"use strict";
var SHELL = "techapp-shell-v1";
var PAGES = "techapp-pages";
var SHELL_URLS = ["/tech/", "/static/js/live.js", "/static/techapp/app.js", "/static/techapp/app.css",
                  "/static/techapp/icon.svg", "/static/css/site.css"];

self.addEventListener("install", function (ev) {
  ev.waitUntil(caches.open(SHELL).then(function (c) { return c.addAll(SHELL_URLS); }).catch(function () {})
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (ev) { ev.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (ev) {
  var req = ev.request;
  var url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (!(url.pathname.indexOf("/tech/") === 0 || url.pathname.indexOf("/static/") === 0)) { return; }
  if (url.pathname === "/tech/actions/" || url.pathname === "/tech/alerts/") { return; }
  ev.respondWith(fetch(req).then(function (res) {
    if (res.ok) {
      var copy = res.clone();
      caches.open(PAGES).then(function (c) { return c.put(req, copy); });
    }
    return res;
  }).catch(function () {
    return caches.match(req, { ignoreSearch: false }).then(function (hit) {
      return hit || caches.match("/tech/") || new Response("", { status: 503 });
    });
  }));
});
