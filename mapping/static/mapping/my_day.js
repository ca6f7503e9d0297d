/* "My day": one socket through the shared client (static/js/live.js: live/reconnecting, backoff);
   while on shift and not in private mode, the phone sends its position over it (frame
   "location.ping"); the server decides what it stores. */
(function () {
  "use strict";
  var live = window.HvacLive ? window.HvacLive.connect({}) : null;
  var status = document.getElementById("gps-status");
  if (!live || !status || status.dataset.tracking !== "1" || !navigator.geolocation) { return; }
  var seq = Date.now();
  navigator.geolocation.watchPosition(function (pos) {
    if (live.state() !== "live") { return; }
    seq += 1;
    live.send("location.ping", {
      latitude: pos.coords.latitude, longitude: pos.coords.longitude, accuracy: pos.coords.accuracy || 0,
      speed: pos.coords.speed, heading: pos.coords.heading,
      device_time: new Date(pos.timestamp).toISOString(), seq: seq });
  }, function () { status.textContent = status.dataset.labelOff; }, { enableHighAccuracy: true, maximumAge: 10000 });
})();
