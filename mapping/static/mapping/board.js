/* The day board: place each stop on the lane's time axis (06:00-22:00). */
(function () {
  "use strict";
  var FROM = 6 * 60, TO = 22 * 60;
  function minutes(iso) { var t = iso.slice(11, 16).split(":"); return +t[0] * 60 + +t[1]; }
  document.querySelectorAll(".lane .stop[data-start]").forEach(function (a) {
    var s = minutes(a.dataset.start), e = minutes(a.dataset.end);
    var left = Math.max(0, (s - FROM) / (TO - FROM) * 100), width = Math.max(2, (e - s) / (TO - FROM) * 100);
    a.style.left = left.toFixed(2) + "%";
    a.style.width = width.toFixed(2) + "%";
    a.classList.add("placed");
  });
})();
