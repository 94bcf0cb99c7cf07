// Marketing's dashboards (templates/admin/analytics/dashboards/page.html): each [data-chart] element gets a uPlot
// chart of the JSON beside it ({x: ["2026-11-01", …], series: [{label, scale: "count"|"rate", values}]}).
// The same figures are in the table under each chart, for screen readers and for copying.
(function () {
  "use strict";
  var COLOURS = ["#2563eb", "#16a34a", "#c2410c", "#7c3aed"];

  function seconds(day) { return Date.parse(day + "T00:00:00Z") / 1000; }

  function draw(element) {
    var data = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    var rate = data.series.some(function (s) { return s.scale === "rate"; });
    var opts = {
      width: Math.max(280, element.clientWidth),
      height: 230,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      legend: { live: true },
      scales: { x: { time: true }, y: rate ? { range: [0, 1] } : { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      axes: [
        { stroke: "#6b7280", grid: { stroke: "rgba(128,128,128,.15)" } },
        { stroke: "#6b7280", grid: { stroke: "rgba(128,128,128,.15)" },
          values: function (u, ticks) { return ticks.map(function (v) { return rate ? Math.round(v * 100) + " %" : v.toLocaleString(); }); } },
      ],
      series: [{}].concat(data.series.map(function (s, i) {
        return {
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          width: 2,
          fill: data.series.length === 1 ? "rgba(37, 99, 235, .08)" : undefined,
          points: { show: data.x.length <= 40 },
          value: function (u, v) { return v == null ? "–" : rate ? (v * 100).toFixed(1) + " %" : v.toLocaleString(); },
        };
      })),
    };
    var plot = new uPlot(opts, [data.x.map(seconds)].concat(data.series.map(function (s) { return s.values; })), element);
    new ResizeObserver(function () { plot.setSize({ width: Math.max(280, element.clientWidth), height: 230 }); }).observe(element);
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof uPlot === "undefined") return;  // the tables below each chart still hold the figures
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
