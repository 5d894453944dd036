// Live countdown of a limited-edition hold: [data-countdown-to] holds the ISO time the hold ends.
// The server decides whether a hold has expired; at zero the page is loaded again to show its answer.
(function () {
  "use strict";
  function pad(number) {
    return String(number).padStart(2, "0");
  }
  function start(element) {
    var end = Date.parse(element.dataset.countdownTo);
    if (isNaN(end)) return;
    var clock = element.querySelector("[data-countdown-clock]") || element;
    var wasRunning = end - Date.now() > 0;
    function tick() {
      var left = Math.max(0, Math.round((end - Date.now()) / 1000));
      clock.textContent = pad(Math.floor(left / 60)) + ":" + pad(left % 60);
      if (left > 0) {
        window.setTimeout(tick, 250);
      } else if (wasRunning) {
        element.classList.add("hold-countdown--expired");
        if (element.dataset.expiredText) clock.textContent = element.dataset.expiredText;
        window.setTimeout(function () { window.location.reload(); }, 1500);
      }
    }
    tick();
  }
  function startAll() {
    document.querySelectorAll("[data-countdown-to]").forEach(start);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", startAll);
  } else {
    startAll();
  }
})();
