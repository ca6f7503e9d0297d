/* The emergency chains in the office inbox, re-drawn from each `emergency.alert` event (inbox.js
 * relays them): per step who was alerted, who declined and why, who accepted, time to accept.
 * The server renders the same markup first (communications/_chain.html); text only, never HTML. */
(function () {
  "use strict";
  var box = document.getElementById("comms-chains");
  if (!box) { return; }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function render(id, data) {
    var chain = data.chain;
    var section = el("section", "comms-chain");
    section.dataset.alert = String(id);
    var head = el("h3");
    var link = el("a", null, "#" + id);
    link.href = box.dataset.adminUrl.replace("/0/", "/" + id + "/");
    head.appendChild(link);
    head.appendChild(document.createTextNode(" " + (data.district || "?") + " – " + chain.state +
      (chain.seconds_to_accept !== null ? " – " + chain.seconds_to_accept + " s" : "")));
    section.appendChild(head);
    section.appendChild(el("p", "comms-preview", (data.text || "").slice(0, 120)));
    var steps = el("ol");
    chain.steps.forEach(function (step) {
      var li = el("li");
      li.dataset.step = String(step.step);
      li.appendChild(el("strong", null, step.label));
      var people = el("ul");
      step.responses.forEach(function (r) {
        var text = r.name + (r.distance_km !== null ? " (" + r.distance_km.toFixed(1) + " km)" : "") + ": " +
          r.state_label + (r.reason ? " – „" + r.reason + "”" : "");
        people.appendChild(el("li", "comms-response comms-" + r.state, text));
      });
      li.appendChild(people);
      steps.appendChild(li);
    });
    section.appendChild(steps);
    return section;
  }

  window.HvacChain = {
    update: function (id, data) {
      var fresh = render(id, data);
      var old = box.querySelector('[data-alert="' + id + '"]');
      var empty = box.querySelector(".comms-empty-chains");
      if (empty) { empty.remove(); }
      if (old) { old.replaceWith(fresh); } else { box.insertBefore(fresh, box.querySelector("section")); }
    }
  };
}());
