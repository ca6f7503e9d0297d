/* The dispatch map: districts shaded by open jobs (or predicted demand), jobs by status and urgency,
   routes with ETAs, technicians moving live over the core socket (/ws/, locations.updated batches). */
(function () {
  "use strict";
  var el = document.getElementById("dispatch-map");
  if (!el || typeof L === "undefined") { return; }
  var d = el.dataset;
  var map = L.map(el, { preferCanvas: false }).setView([52.2297, 21.0122], 11);
  window.dispatchMap = map;
  if (d.tileUrl) {
    // Offline (no tiles) the vector layers below still draw.
    L.tileLayer(d.tileUrl, { maxZoom: 18, attribution: "&copy; OpenStreetMap contributors" }).addTo(map);
  }
  var districtLayer = L.geoJSON(null).addTo(map);
  var routeLayer = L.layerGroup().addTo(map);
  var jobLayer = L.layerGroup().addTo(map);
  var techLayer = L.layerGroup().addTo(map);
  var techMarkers = {};
  var demand = null;
  var lastDistricts = null;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " " + r.status); }
      return r.json();
    });
  }
  function shade(v, max) {
    var t = max > 0 ? Math.min(1, v / max) : 0;
    return "rgba(215,48,31," + (0.08 + 0.5 * t).toFixed(2) + ")";
  }
  function drawDistricts(fc) {
    lastDistricts = fc;
    districtLayer.clearLayers();
    var values = fc.features.map(function (f) {
      var slug = f.properties.slug;
      return demand ? (demand[slug] || 0) : f.properties.open_jobs;
    });
    var max = Math.max.apply(null, values.concat([1]));
    fc.features.forEach(function (f) {
      if (!f.geometry) { return; }
      var slug = f.properties.slug;
      // With a forecast every district is shaded by predicted demand (0 where no hotspot), so one
      // scale is used; without it (404, or no hotspots yet) by open jobs.
      var predicted = !!demand;
      var value = predicted ? (demand[slug] || 0) : f.properties.open_jobs;
      var layer = L.geoJSON(f, { style: { color: "#444", weight: 1, fillColor: shade(value, max), fillOpacity: 1 } });
      // Predicted demand is this week's job-hours over capacity: shown as a percentage.
      var shown = predicted ? Math.round(100 * value) + " %" : value;
      layer.bindTooltip(f.properties.name + ": " + shown + " " + (predicted ? d.labelPredicted : d.labelOpenJobs));
      districtLayer.addLayer(layer);
    });
    el.setAttribute("data-districts-drawn", String(fc.features.length));
  }
  function jobColour(p) {
    if (p.urgency === "emergency") { return "#d7301f"; }
    if (p.urgency === "high") { return "#fc8d59"; }
    if (p.status === "new") { return "#3182bd"; }
    if (p.status === "scheduled") { return "#31a354"; }
    return "#756bb1";
  }
  function drawJobs(fc) {
    jobLayer.clearLayers();
    fc.features.forEach(function (f) {
      var c = f.geometry.coordinates, p = f.properties;
      L.circleMarker([c[1], c[0]], { radius: p.urgency === "emergency" ? 9 : 6, color: "#222", weight: 1,
        fillColor: jobColour(p), fillOpacity: 0.9 })
        .bindTooltip(d.labelJob + " #" + p.job + " · " + p.status + (p.eta ? " · " + d.labelEta + " " + p.eta.slice(11, 16) : ""))
        .addTo(jobLayer);
    });
  }
  var palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"];
  function drawPlan(plan) {
    routeLayer.clearLayers();
    plan.routes.forEach(function (r, i) {
      var pts = r.stops.filter(function (s) { return s.latitude !== null; }).map(function (s) { return [s.latitude, s.longitude]; });
      if (pts.length < 1) { return; }
      L.polyline(pts, { color: palette[i % palette.length], weight: 3, opacity: 0.8 }).bindTooltip(r.name).addTo(routeLayer);
      r.stops.forEach(function (s) {
        if (s.latitude === null) { return; }
        L.marker([s.latitude, s.longitude], { icon: L.divIcon({ className: "eta-label", html: String(s.sequence + 1) + " · " + s.eta.slice(11, 16) }) })
          .addTo(routeLayer);
      });
    });
  }
  function techIcon(privateMode) {
    return L.divIcon({ className: "tech-marker" + (privateMode ? " private" : ""), iconSize: [18, 18] });
  }
  function moveTechnician(id, lat, lng, name, privateMode) {
    var m = techMarkers[id];
    if (privateMode) {
      if (m) { techLayer.removeLayer(m); delete techMarkers[id]; }
      var badge = document.querySelector('[data-private-technician="' + id + '"]');
      if (!badge) {
        badge = document.createElement("span");
        badge.className = "private-badge";
        badge.setAttribute("data-private-technician", id);
        badge.textContent = (name || ("#" + id)) + ": " + d.labelPrivate;
        el.parentNode.insertBefore(badge, el.nextSibling);
      }
      return;
    }
    var stale = document.querySelector('[data-private-technician="' + id + '"]');
    if (stale) { stale.remove(); }
    if (lat === null || lat === undefined) { return; }
    if (!m) {
      m = L.marker([lat, lng], { icon: techIcon(false), title: name || ("#" + id) }).addTo(techLayer);
      m.bindTooltip(name || ("#" + id));
      techMarkers[id] = m;
    } else {
      m.setLatLng([lat, lng]);
    }
    var node = m.getElement && m.getElement();
    if (node) {
      node.setAttribute("data-technician", id);
      node.setAttribute("data-lat", lat);
      node.setAttribute("data-lng", lng);
    }
  }
  // Positions come in batches, one per server process and push interval (locations.updated): the
  // latest state of each technician that moved. "received" (server time) orders them: a batch of
  // another process that arrives after a newer private-mode change does not bring the marker back.
  var received = {};
  function applyLocation(p) {
    if (received[p.technician] !== undefined && p.received < received[p.technician]) { return; }
    received[p.technician] = p.received;
    if (!p.private && (p.latitude === null || p.latitude === undefined)) {
      // Shift ended: positions are shown only during the shift.
      var m = techMarkers[p.technician];
      if (m) { techLayer.removeLayer(m); delete techMarkers[p.technician]; }
    }
    moveTechnician(p.technician, p.latitude, p.longitude, null, p.private);
  }
  function drawTechnicians(fc) {
    fc.features.forEach(function (f) {
      var p = f.properties;
      if (p.private) { moveTechnician(p.technician, null, null, p.name, true); return; }
      if (f.geometry) { moveTechnician(p.technician, f.geometry.coordinates[1], f.geometry.coordinates[0], p.name, false); }
    });
  }
  function loadDistricts() { return getJSON(d.districtsUrl).then(drawDistricts); }
  function loadJobs() { return getJSON(d.jobsUrl).then(drawJobs); }
  function loadPlan() { return getJSON(d.planUrl).then(drawPlan); }
  function loadHotspots() {
    if (!d.hotspotsUrl) { return Promise.resolve(); }
    return getJSON(d.hotspotsUrl).then(function (fc) {
      demand = {};
      (fc.features || []).forEach(function (f) {
        var p = f.properties || {};
        var slug = p.district_slug || p.slug || p.district;
        var v = typeof p.weekDemand === "number" ? p.weekDemand
          : (p.predictedDemand !== undefined ? p.predictedDemand : p.predicted_demand);
        if (slug && typeof v === "number") { demand[slug] = v; }
      });
      if (!Object.keys(demand).length) { demand = null; }
      if (lastDistricts) { drawDistricts(lastDistricts); }
    }).catch(function () { demand = null; }); // no forecast yet (404): shade by open jobs
  }
  loadDistricts().then(loadHotspots).catch(function (e) { console.warn(e); });
  loadJobs().catch(function (e) { console.warn(e); });
  loadPlan().catch(function (e) { console.warn(e); });
  getJSON(d.techniciansUrl).then(drawTechnicians).catch(function (e) { console.warn(e); });

  function showAlert(a) {
    var box = document.getElementById("dispatch-alerts");
    if (!box || !a.district_slug) { return; }
    var li = document.createElement("li");
    li.setAttribute("data-alert", a.district_slug);
    li.appendChild(document.createTextNode((a.district || a.district_slug) + " · " + (a.week_start || "") + " · " +
      Math.round(100 * (a.predictedDemand || 0)) + " % " + d.labelPredicted + " "));
    [[a.chart_url, d.labelChart], [a.jobs_url, d.labelJobs]].forEach(function (l) {
      if (!l[0]) { return; }
      var link = document.createElement("a");
      link.href = l[0];
      link.textContent = l[1];
      li.appendChild(link);
      li.appendChild(document.createTextNode(" "));
    });
    box.hidden = false;
    box.insertBefore(li, box.firstChild);
  }

  var refreshTimer = null;
  function refreshSoon() {
    if (refreshTimer) { return; }
    refreshTimer = setTimeout(function () { refreshTimer = null; loadJobs(); loadPlan(); }, 500);
  }
  if (!window.HvacLive) { return; }
  // The map's catch-up after a reconnect is a re-fetch of what it draws (positions are a state,
  // not a stream of rows); the shared client shows live/reconnecting and backs off with jitter.
  window.HvacLive.connect({
    onState: function (state) { el.setAttribute("data-live", state === "live" ? "1" : "0"); },
    onReconnect: function () {
      refreshSoon();
      getJSON(d.techniciansUrl).then(drawTechnicians).catch(function (e) { console.warn(e); });
    },
    onEvent: function (ev) {
      el.setAttribute("data-last-event", ev.type);
      if (ev.type === "locations.updated") {
        (ev.data.locations || []).forEach(applyLocation);
      } else if (ev.type === "job.updated" || ev.type === "booking.created" || ev.type === "route.updated") {
        refreshSoon();
      } else if (ev.type === "prophecy.alert" || ev.type === "forecast.updated") {
        // A hotspot or a new forecast: re-shade the districts and name the alert with its links.
        loadHotspots();
        if (ev.type === "prophecy.alert") { showAlert(ev.data || {}); }
      } else if (ev.type === "message.created" && ev.data && ev.data.marker && ev.data.latitude) {
        L.circleMarker([ev.data.latitude, ev.data.longitude], { radius: 8, color: "#d7301f", dashArray: "3" }).addTo(jobLayer);
      }
    }
  });
})();
