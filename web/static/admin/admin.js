// Outreach admin: draws the charts from the page's JSON block (no inline script: the CSP allows only this file).
(function () {
  "use strict";
  // Meter bars: widths come from data attributes, set here because the CSP forbids inline style attributes.
  document.querySelectorAll("[data-width]").forEach(function (el) { el.style.width = el.dataset.width + "%"; });
  document.querySelectorAll("[data-left]").forEach(function (el) { el.style.left = el.dataset.left + "%"; });

  var block = document.getElementById("chart-data");
  if (!block || typeof Chart === "undefined") { return; }
  var data = JSON.parse(block.textContent);
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#667085";
  Chart.defaults.animation = false;

  var colours = {
    sent: "#94a3b8", delivered: "#2f5bd3", opened: "#1f8a4c", clicked: "#7c3aed",
    bounced: "#e59a1c", complained: "#b42318", unsubscribed: "#0e7490"
  };

  function daily(canvas, d) {
    // Emails per day: what left (bars) and what happened to it (lines).
    var lines = ["delivered", "opened", "clicked"].map(function (k) {
      return { type: "line", label: k, data: d[k], borderColor: colours[k], backgroundColor: colours[k],
               cubicInterpolationMode: "monotone", pointRadius: 2, order: 1 };
    });
    var sent = { type: "bar", label: "sent", data: d.sent, backgroundColor: "#d5dbe5", order: 2, maxBarThickness: 36 };
    new Chart(canvas, {
      data: { labels: d.labels, datasets: [sent].concat(lines) },
      options: {
        maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }

  function problems(canvas, d) {
    // Bounces, complaints and unsubscribes per day, on their own scale (they are small next to sends).
    var bars = ["bounced", "complained", "unsubscribed"].map(function (k) {
      return { label: k, data: d[k], backgroundColor: colours[k], maxBarThickness: 18 };
    });
    new Chart(canvas, {
      type: "bar",
      data: { labels: d.labels, datasets: bars },
      options: {
        maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom" } },
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
  }

  function funnel(canvas, d) {
    // One bar per step, every step labelled: Chart.js skips labels that would crowd, so give each bar its room.
    canvas.parentNode.style.height = Math.max(210, 26 * d.labels.length + 30) + "px";
    new Chart(canvas, {
      type: "bar",
      data: { labels: d.labels, datasets: [{ label: "subscribers", data: d.values, backgroundColor: "#2f5bd3" }] },
      options: {
        maintainAspectRatio: false, indexAxis: "y", plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { autoSkip: false } } }
      }
    });
  }

  var draw = { daily: daily, problems: problems, funnel: funnel };
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var name = canvas.dataset.chart, source = canvas.dataset.source || name;
    if (data[source] && draw[name]) { draw[name](canvas, data[source]); }
  });
})();
