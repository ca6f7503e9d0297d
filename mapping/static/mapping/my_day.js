/* "My day": while on shift and not in private mode, the phone sends its position over the socket
   (frame "location.ping"); the server decides what it stores. */
(function () {
  "use strict";
  var status = document.getElementById("gps-status");
  if (!status || status.dataset.tracking !== "1" || !navigator.geolocation || !window.WebSocket) { return; }
  var seq = Date.now();
  var ws = null;
  function open() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + "/ws/");
    ws.onclose = function () { setTimeout(open, 5000); };
  }
  open();
  navigator.geolocation.watchPosition(function (pos) {
    if (!ws || ws.readyState !== 1) { return; }
    seq += 1;
    ws.send(JSON.stringify({ type: "location.ping", id: String(seq), data: {
      latitude: pos.coords.latitude, longitude: pos.coords.longitude, accuracy: pos.coords.accuracy || 0,
      speed: pos.coords.speed, heading: pos.coords.heading,
      device_time: new Date(pos.timestamp).toISOString(), seq: seq } }));
  }, function () { status.textContent = status.dataset.labelOff; }, { enableHighAccuracy: true, maximumAge: 10000 });
})();
