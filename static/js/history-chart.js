// The sandbox home's history chart: one sensor from the series API, from twelve months down to minutes.
// Range buttons pick a window ending now; dragging across the plot zooms into that window (fetched
// again at full resolution, so zooming in reveals minutes, not a stretched picture).
(function () {
  "use strict";
  var card = document.querySelector("[data-chart]");
  if (!card || !window.uPlot) return;
  var plotBox = card.querySelector("[data-chart-plot]");
  var select = card.querySelector("[data-chart-sensor]");
  var statusText = card.querySelector("[data-chart-status]");
  var rangeButtons = card.querySelectorAll("[data-range]");
  var historyStart = Date.parse(card.dataset.historyStart);
  var MIN_WINDOW_MS = 10 * 60 * 1000;
  var plot = null;
  var view = { start: 0, end: 0 };
  var request = 0;
  var data = [[], []];
  var following = true;  // the window ends now (a range button): live values extend it

  function unit() { return select.options[select.selectedIndex].dataset.unit || ""; }

  function label() { return select.options[select.selectedIndex].textContent; }

  function minuteFloor(ms) { return Math.floor(ms / 60000) * 60000; }

  function options(width) {
    return {
      width: width,
      height: Math.max(220, Math.min(360, Math.round(width * 0.42))),
      cursor: { drag: { x: true, y: false, setScale: false } },
      legend: { live: true },
      scales: { x: { time: true } },
      axes: [{ stroke: "#4a5566", grid: { stroke: "#eef1f5" } }, { stroke: "#4a5566", grid: { stroke: "#eef1f5" }, size: 64 }],
      series: [{}, { label: label(), stroke: "#b4410f", width: 1.5, fill: "rgba(180, 65, 15, 0.08)", value: function (u, v) { return v == null ? "—" : v.toFixed(2) + " " + unit(); } }],
      hooks: { setSelect: [zoomToSelection] },
    };
  }

  function zoomToSelection(u) {
    if (u.select.width < 5) return;
    var from = u.posToVal(u.select.left, "x") * 1000;
    var to = u.posToVal(u.select.left + u.select.width, "x") * 1000;
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (to - from < MIN_WINDOW_MS) { var middle = (from + to) / 2; from = middle - MIN_WINDOW_MS / 2; to = middle + MIN_WINDOW_MS / 2; }
    pressed(null);
    following = false;
    load(from, to);
    window.demoEvents && window.demoEvents.record("feature_clicked", { feature: "history_zoom" });
  }

  function pressed(button) {
    rangeButtons.forEach(function (b) { b.setAttribute("aria-pressed", b === button ? "true" : "false"); });
  }

  function load(start, end) {
    var now = minuteFloor(Date.now());
    end = Math.min(minuteFloor(end), now);
    start = Math.max(minuteFloor(start), historyStart);
    if (end - start < 60000) start = end - 60000;
    view = { start: start, end: end };
    var mine = ++request;
    var width = plotBox.clientWidth || 600;
    var url = card.dataset.seriesUrl.replace("SENSOR", select.value) +
      "?start=" + new Date(start).toISOString() + "&end=" + new Date(end).toISOString() + "&max_points=" + Math.max(200, Math.round(width));
    card.dataset.state = "loading";
    statusText.textContent = "Loading…";
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("The series API answered " + response.status + ".");
        return response.json();
      })
      .then(function (body) {
        if (mine !== request) return;  // a newer request superseded this one
        var xs = new Array(body.points.length), ys = new Array(body.points.length);
        body.points.forEach(function (point, i) { xs[i] = Date.parse(point[0]) / 1000; ys[i] = point[1]; });
        data = [xs, ys];
        draw(data);
        card.dataset.state = "ready";
        statusText.textContent = body.points.length + " points, " + (body.resolution === "minute" ? "every minute" : "min/max per bucket") + ".";
      })
      .catch(function (error) {
        if (mine !== request) return;
        card.dataset.state = "error";
        statusText.textContent = "Couldn't load this sensor's history. " + error.message;
      });
  }

  function draw(data) {
    var width = plotBox.clientWidth || 600;
    if (plot) { plot.destroy(); }
    plot = new uPlot(options(width), data, plotBox);
  }

  rangeButtons.forEach(function (button) {
    button.addEventListener("click", function () {
      pressed(button);
      following = true;
      var now = Date.now();
      load(now - Number(button.dataset.range) * 60000, now);
    });
  });
  select.addEventListener("change", function () {
    load(view.start, view.end);
    window.demoEvents && window.demoEvents.record("feature_viewed", { feature: "history", sensor: label() });
  });
  document.querySelectorAll("[data-chart-link]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      select.value = link.dataset.chartLink;
      select.dispatchEvent(new Event("change"));
      card.scrollIntoView({ behavior: "smooth", block: "start" });
      select.focus({ preventScroll: true });
    });
  });
  // The live tail: each tick's value of the charted sensor, after the last minute the history API gave.
  if (window.demoLive) {
    window.demoLive.want(function () { return [Number(select.value)]; });
    select.addEventListener("change", window.demoLive.resubscribe);
    window.demoLive.on(function (tick) {
      var value = tick.values[select.value];
      var at = Date.parse(tick.sim_ts) / 1000;
      if (!plot || !following || value === undefined || card.dataset.state !== "ready") return;
      if (data[0].length && at <= data[0][data[0].length - 1]) return;
      data[0].push(at);
      data[1].push(value);
      plot.setData(data);
    });
  }
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { if (plot) plot.setSize({ width: plotBox.clientWidth, height: plot.height }); }, 150);
  });
  var now = Date.now();
  load(now - 1440 * 60000, now);
})();
