/* The phone booking's map picker (django-leaflet's bundled Leaflet, no CDN, no inline script): a
   click or a dragged marker writes the site's point into the latitude/longitude inputs (the form
   works without this script), and the district is looked up live through the office's locate view;
   a point outside Warsaw says so. With a geocoder, "Find the address" places the marker. */
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); } }
  ready(function () {
    var node = document.getElementById("booking-map");
    if (!node || typeof L === "undefined") { return; }
    var d = node.dataset;
    var lat = document.getElementById(d.latInput);
    var lng = document.getElementById(d.lngInput);
    var out = document.getElementById("booking-district");
    var map = L.map(node).setView([52.2297, 21.0122], 11);
    window.bookingMap = map;
    if (d.tileUrl) { L.tileLayer(d.tileUrl, { maxZoom: 18, attribution: "&copy; OpenStreetMap" }).addTo(map); }
    var marker = null;
    var asked = 0;

    function say(text, inside) {
      out.textContent = text || "";
      out.className = "help " + (inside ? "inside" : "outside");
    }
    function lookUp(ll) {
      var mine = ++asked;  // only the latest answer is shown when the marker moves fast
      var url = d.locateUrl + "?latitude=" + encodeURIComponent(ll.lat) + "&longitude=" + encodeURIComponent(ll.lng);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (data) {
          if (mine !== asked) { return; }
          say(data.message, data.inside);
          node.setAttribute("data-district", data.inside ? data.district : "outside");
        })
        .catch(function () { if (mine === asked) { say(d.labelFailed, false); } });
    }
    function place(ll, pan) {
      if (!marker) {
        marker = L.marker(ll, { draggable: true }).addTo(map);
        marker.on("dragend", function () { write(marker.getLatLng()); });
      } else { marker.setLatLng(ll); }
      if (pan) { map.setView(ll, 15); }
    }
    function write(ll) {
      lat.value = ll.lat.toFixed(6);
      lng.value = ll.lng.toFixed(6);
      lookUp(ll);
    }
    function fromInputs(pan) {
      var a = parseFloat(lat.value), b = parseFloat(lng.value);
      if (isNaN(a) || isNaN(b)) { return; }
      place([a, b], pan);
      lookUp({ lat: a, lng: b });
    }
    map.on("click", function (e) { place(e.latlng, false); write(e.latlng); });
    [lat, lng].forEach(function (input) { if (input) { input.addEventListener("change", function () { fromInputs(true); }); } });
    fromInputs(true);

    var geocode = document.getElementById("booking-geocode");
    if (geocode) {
      geocode.addEventListener("click", function () {
        var street = document.getElementById(d.streetInput), postal = document.getElementById(d.postalInput);
        var url = d.locateUrl + "?street=" + encodeURIComponent(street ? street.value : "") +
          "&postal_code=" + encodeURIComponent(postal ? postal.value : "");
        fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            if (!data.found) { say(data.message || data.error, false); return; }
            var ll = L.latLng(data.latitude, data.longitude);
            place(ll, true);
            write(ll);
          })
          .catch(function () { say(d.labelFailed, false); });
      });
    }
    node.setAttribute("data-ready", "1");
  });
})();
