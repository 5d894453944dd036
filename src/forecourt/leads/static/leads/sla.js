// SLA countdowns: every <time data-deadline> counts down to the deadline the server set, in the
// visitor's clock, and turns "due soon" and "overdue" on time without a reload.
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function duration(ms) {
    var total = Math.floor(Math.abs(ms) / 1000);
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var seconds = total % 60;
    return hours + ":" + pad(minutes) + ":" + pad(seconds);
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-deadline]").forEach(function (el) {
      var deadline = Date.parse(el.dataset.deadline);
      if (isNaN(deadline)) { return; }
      var left = deadline - now;
      var dueSoon = (parseInt(el.dataset.dueSoon, 10) || 1800) * 1000;
      el.classList.toggle("sla--overdue", left <= 0);
      el.classList.toggle("sla--due_soon", left > 0 && left <= dueSoon);
      el.classList.toggle("sla--on_time", left > dueSoon);
      el.textContent = left > 0
        ? duration(left) + " " + (el.dataset.left || "left")
        : (el.dataset.overdue || "overdue") + " " + duration(left);
      var item = el.closest(".lead-item");
      if (item) { item.classList.toggle("lead-item--late", left <= 0); }
    });
  }

  function start() {
    tick();
    window.setInterval(tick, 1000);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
