// The KPI panel's day-by-day chart (Chart.js, served from the app's own static files).
(function () {
  "use strict";

  function draw() {
    var canvas = document.getElementById("kpi-chart");
    var source = document.getElementById("kpi-data");
    if (!canvas || !source || typeof window.Chart === "undefined") { return; }
    var days = JSON.parse(source.textContent);
    var labels = days.map(function (day) { return day.date.slice(5); });
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          { label: canvas.dataset.labelReceived, data: days.map(function (d) { return d.received; }),
            backgroundColor: "rgba(11, 79, 156, 0.35)", borderColor: "#0b4f9c", borderWidth: 1 },
          { label: canvas.dataset.labelSla, data: days.map(function (d) { return d.contacted_within_sla; }),
            backgroundColor: "rgba(9, 132, 95, 0.55)", borderColor: "#09845f", borderWidth: 1 },
          { label: canvas.dataset.labelVisited, type: "line", data: days.map(function (d) { return d.visited; }),
            borderColor: "#c2410c", backgroundColor: "#c2410c", tension: 0.25, pointRadius: 2 }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
