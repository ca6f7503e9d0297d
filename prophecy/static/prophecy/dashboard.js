/* The managers' forecast dashboard, live over the one socket client (static/js/live.js): a hotspot
   alert (prophecy.alert) is added to the alert list with its links (the district's chart, the jobs
   behind it); a forecast refresh (forecast.updated) re-draws the forecast panel from the page
   itself. After a reconnect both are re-read the same way, so nothing missed stays missing. */
(function () {
  "use strict";
  var box = document.getElementById("prophecy-live");
  if (!box || !window.HvacLive) { return; }
  var list = document.getElementById("prophecy-alerts");
  var labels = box.dataset;

  function link(href, text, attr) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    a.setAttribute(attr, "");
    return a;
  }

  function addAlert(data, id) {
    if (!data || !data.district_slug || list.querySelector('[data-alert="' + id + '"]')) { return; }
    var none = list.querySelector("[data-alert-none]");
    if (none) { none.remove(); }
    var li = document.createElement("li");
    li.setAttribute("data-alert", String(id));
    li.setAttribute("data-alert-live", "");
    var name = document.createElement("strong");
    name.textContent = data.district || data.district_slug;
    li.appendChild(name);
    var demand = typeof data.predictedDemand === "number" ? data.predictedDemand.toFixed(2) : "";
    li.appendChild(document.createTextNode(" — " + labels.labelWeek + " " + (data.week_start || "") + ", " +
      labels.labelDemand + " " + demand + " (" + (data.serviceTypes || []).join(", ") + "): "));
    li.appendChild(link(data.chart_url || "#", labels.labelChart, "data-alert-chart"));
    li.appendChild(document.createTextNode(" · "));
    li.appendChild(link(data.jobs_url || "#", labels.labelJobs, "data-alert-jobs"));
    list.insertBefore(li, list.firstChild);
  }

  // The page itself is the source of the panel and the alert list: fetch it and swap them in.
  function reload() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        [["[data-forecast-panel]"], ["#prophecy-alerts"]].forEach(function (sel) {
          var fresh = doc.querySelector(sel[0]), here = document.querySelector(sel[0]);
          if (fresh && here) { here.innerHTML = fresh.innerHTML; }
        });
      });
  }

  window.HvacLive.connect({
    onReconnect: function () { reload().catch(function (e) { console.warn(e); }); },
    onEvent: function (ev) {
      if (ev.type === "prophecy.alert") {
        addAlert(ev.data, ev.id);
      } else if (ev.type === "forecast.updated") {
        var note = box.querySelector("[data-forecast-refreshed]");
        note.hidden = false;
        note.textContent = labels.labelRefreshed + " " + new Date(ev.data.refreshed_at || Date.now()).toLocaleString();
        reload().catch(function (e) { console.warn(e); });
      }
    }
  });
})();
