/* Booking page: while the client types, ask the server's triage classifier (the same one that
   classifies messages and the booking itself) and show the gas safety instruction first, and the
   emergency hint; reload the windows when the site changes. The booking is classified again when
   it is sent, so a failed or rate-limited check only delays the warning, it decides nothing. */
(function () {
  "use strict";
  var form = document.getElementById("booking-form");
  if (!form) { return; }
  var url = form.getAttribute("data-triage-url");
  var text = form.querySelector("textarea[name=description]");
  var token = form.querySelector("input[name=csrfmiddlewaretoken]");
  var warning = document.getElementById("gas-warning");
  var hint = document.getElementById("emergency-hint");
  var timer = null;
  var asked = null; // the text of the last check sent, so an unchanged text is not sent again
  var latest = 0;   // answers can arrive out of order: only the newest request's answer is shown

  function show(verdict) {
    if (verdict.gas && warning) {
      var instruction = warning.querySelector(".instruction");
      if (instruction && verdict.safety_instruction) { instruction.textContent = verdict.safety_instruction; }
      if (warning.hidden) { warning.hidden = false; warning.scrollIntoView({ block: "start" }); }
    }
    if (hint) { hint.hidden = !verdict.emergency; }
  }
  function check() {
    var value = (text.value || "").trim();
    if (!url || value === asked) { return; }
    asked = value;
    if (!value) { if (hint) { hint.hidden = true; } return; }
    var mine = ++latest;
    var body = new FormData();
    body.append("description", value);
    fetch(url, { method: "POST", body: body, credentials: "same-origin",
                 headers: { "X-CSRFToken": token ? token.value : "", Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { asked = null; return null; } // rate limited or signed out: next pause retries
        return response.json();
      })
      .then(function (verdict) { if (verdict && mine === latest) { show(verdict); } })
      .catch(function () { asked = null; }); // offline: try again on the next keystroke
  }
  if (text) {
    text.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 400); // a pause in typing, not every keystroke (rate limited too)
    });
    check();
  }

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
