/* Admin map widgets (django-leaflet's bundled Leaflet, no leaflet.forms): a district's polygon,
   read-only, and a site's point picker bound to the latitude/longitude inputs. */
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); } }
  function baseMap(node) {
    var map = L.map(node).setView([52.2297, 21.0122], 11);
    if (node.dataset.tileUrl) { L.tileLayer(node.dataset.tileUrl, { maxZoom: 18, attribution: "&copy; OpenStreetMap" }).addTo(map); }
    return map;
  }
  ready(function () {
    if (typeof L === "undefined") { return; }
    document.querySelectorAll(".district-polygon-map").forEach(function (node) {
      var map = baseMap(node);
      var geometry = JSON.parse(node.dataset.geometry || "null");
      if (geometry && geometry.type) {
        var layer = L.geoJSON(geometry, { style: { color: "#3182bd", weight: 2, fillOpacity: 0.2 } }).addTo(map);
        map.fitBounds(layer.getBounds());
        node.setAttribute("data-drawn", "1");
      }
    });
    document.querySelectorAll(".site-picker-map").forEach(function (node) {
      var map = baseMap(node);
      var lat = document.getElementById(node.dataset.latInput);
      var lng = document.getElementById(node.dataset.lngInput);
      var marker = null;
      function place(ll, pan) {
        if (!marker) { marker = L.marker(ll, { draggable: true }).addTo(map); marker.on("dragend", function () { write(marker.getLatLng()); }); }
        else { marker.setLatLng(ll); }
        if (pan) { map.setView(ll, 15); }
      }
      function write(ll) { lat.value = ll.lat.toFixed(6); lng.value = ll.lng.toFixed(6); }
      if (lat && lng && lat.value && lng.value) { place([parseFloat(lat.value), parseFloat(lng.value)], true); }
      map.on("click", function (e) { place(e.latlng, false); write(e.latlng); });
      [lat, lng].forEach(function (input) {
        if (!input) { return; }
        input.addEventListener("change", function () {
          if (lat.value && lng.value) { place([parseFloat(lat.value), parseFloat(lng.value)], true); }
        });
      });
    });
  });
})();
