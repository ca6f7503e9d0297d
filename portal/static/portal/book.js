/* Booking page: show the gas safety instruction (and the emergency hint) while the client types,
   before anything else; reload the windows when the site changes. The server checks again. */
(function () {
  "use strict";
  var data = document.getElementById("triage-keywords");
  var form = document.getElementById("booking-form");
  if (!data || !form) { return; }
  var keywords = JSON.parse(data.textContent);
  var gas = keywords.gas.map(function (p) { return new RegExp(p); });
  var emergency = keywords.emergency.map(function (p) { return new RegExp(p); });
  var text = form.querySelector("textarea[name=description]");
  var warning = document.getElementById("gas-warning");
  var hint = document.getElementById("emergency-hint");

  function normalise(s) {
    return s.toLowerCase().replace(/ł/g, "l").normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }
  function check() {
    var plain = normalise(text.value || "");
    var isGas = gas.some(function (r) { return r.test(plain); });
    var isEmergency = isGas || emergency.some(function (r) { return r.test(plain); });
    if (isGas && warning.hidden) { warning.hidden = false; warning.scrollIntoView({ block: "start" }); }
    if (isGas) { warning.hidden = false; }
    hint.hidden = !isEmergency;
  }
  if (text) { text.addEventListener("input", check); check(); }

  var site = form.querySelector("select[name=site]");
  if (site) {
    site.addEventListener("change", function () {
      var refresh = document.createElement("input");
      refresh.type = "hidden"; refresh.name = "action"; refresh.value = "refresh";
      form.appendChild(refresh);
      form.submit();
    });
  }
})();
