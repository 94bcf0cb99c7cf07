// History charts of the sandbox pages: a sensor from the series API, from twelve months down to minutes.
// Every [data-chart] card is one chart: the home's picks its sensor from a <select data-chart-sensor>,
// an asset page's charts carry theirs (data-sensor-id, data-unit, data-label). Range buttons
// ([data-range], in the card or in the [data-chart-scope] around several cards) pick a window ending
// now; dragging across a plot zooms into that window (fetched again at full resolution, so zooming in
// reveals minutes, not a stretched picture). While a window ends now, live ticks extend it: ticks that
// arrive while the history loads are kept and joined after its last minute, so there is no gap.
// Every chart has a text alternative: its plot is an image named by what it shows (sensor, window, points,
// lowest and highest), and a <details> "Table" below it lists the same figures, filled when it is opened.
// window.demoHistoryChart.init(card) starts a card added later (an asset page's sensor picker).
(function () {
  "use strict";
  if (!window.uPlot) return;
  var MIN_WINDOW_MS = 10 * 60 * 1000;
  // Time ticks in the pages' one format (demoportal.core.formats: "3 Dec 2026 16:13 UTC"), 24-hour, UTC:
  // uPlot's table of [smallest tick step in s, label, then the label's addition when the year, month, day,
  // hour, minute or second rolls over, 1 = append].
  var TIME_TICKS = [
    [3600 * 24 * 365, "{YYYY}", null, null, null, null, null, null, 1],
    [3600 * 24 * 28, "{MMM}", "\n{YYYY}", null, null, null, null, null, 1],
    [3600 * 24, "{D} {MMM}", "\n{YYYY}", null, null, null, null, null, 1],
    [3600, "{HH}:{mm}", "\n{D} {MMM} {YYYY}", null, "\n{D} {MMM}", null, null, null, 1],
    [60, "{HH}:{mm}", "\n{D} {MMM} {YYYY}", null, "\n{D} {MMM}", null, null, null, 1],
    [1, "{HH}:{mm}:{ss}", "\n{D} {MMM} {YYYY}", null, "\n{D} {MMM}", null, null, null, 1],
  ];

  function minuteFloor(ms) { return Math.floor(ms / 60000) * 60000; }

  function chart(card) {
    var scope = card.closest("[data-chart-scope]") || card;
    var plotBox = card.querySelector("[data-chart-plot]");
    var select = card.querySelector("[data-chart-sensor]");
    var statusText = card.querySelector("[data-chart-status]");
    var rangeButtons = scope.querySelectorAll("[data-range]");
    var historyStart = Date.parse(card.dataset.historyStart);
    var table = card.querySelector("[data-chart-table]");
    var rows = table && table.querySelector("[data-chart-rows]");
    var plot = null;
    var view = { start: 0, end: 0 };
    var request = 0;
    var data = [[], []];
    var pending = [];  // live [time, value] arriving while the history loads
    var following = true;  // the window ends now (a range button): live values extend it

    function alive() { return card.isConnected; }
    function sensorId() { return select ? select.value : card.dataset.sensorId; }
    function unit() { return select ? select.options[select.selectedIndex].dataset.unit || "" : card.dataset.unit || ""; }
    function label() { return select ? select.options[select.selectedIndex].textContent : card.dataset.label || ""; }

    function reading(v) { return v == null ? "—" : v.toFixed(2); }  // the legend's figures, the table's too
    function when(seconds) { return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " "); }

    // The text alternative: the plot's name says what it shows; the table, when open, lists every point.
    function describe() {
      var xs = data[0], ys = data[1].filter(function (v) { return v != null; });
      var span = xs.length ? " from " + when(xs[0]) + " to " + when(xs[xs.length - 1]) + " UTC" : "";
      var summary = ys.length ? ", " + xs.length + " points" + span + ", lowest " + reading(Math.min.apply(null, ys)) +
        ", highest " + reading(Math.max.apply(null, ys)) + " " + unit() : ", no data";
      plotBox.setAttribute("role", "img");
      plotBox.setAttribute("aria-label", "Chart of " + label() + summary + (table ? ". The table below lists the values." : "."));
      if (!table) return;
      table.hidden = false;
      table.querySelector("[data-chart-caption]").textContent = label() + span;
      table.querySelector("[data-chart-column]").textContent = label();
      if (table.open) tabulate();
    }
    function row(at, value) {
      var tr = document.createElement("tr");
      var time = document.createElement("td"), figure = document.createElement("td");
      time.textContent = when(at);
      figure.textContent = reading(value);
      tr.append(time, figure);
      return tr;
    }
    function tabulate() {
      var fragment = document.createDocumentFragment();
      data[0].forEach(function (at, i) { fragment.appendChild(row(at, data[1][i])); });
      rows.replaceChildren(fragment);
    }
    if (table) table.addEventListener("toggle", function () { if (table.open) tabulate(); else rows.replaceChildren(); });

    function options(width) {
      return {
        width: width,
        height: Math.max(200, Math.min(select ? 360 : 280, Math.round(width * 0.42))),
        cursor: { drag: { x: true, y: false, setScale: false } },
        legend: { live: true },
        scales: { x: { time: true } },
        tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },  // plant time is UTC
        axes: [{ stroke: "#4a5566", grid: { stroke: "#eef1f5" }, values: TIME_TICKS }, { stroke: "#4a5566", grid: { stroke: "#eef1f5" }, size: 64 }],
        series: [{ value: "{D} {MMM} {YYYY} {HH}:{mm} UTC" }, { label: label(), stroke: "#b4410f", width: 1.5, fill: "rgba(180, 65, 15, 0.08)", value: function (u, v) { return v == null ? "—" : reading(v) + " " + unit(); } }],
        hooks: { setSelect: [zoomToSelection] },
      };
    }

    function zoomToSelection(u) {
      if (u.select.width < 5) return;
      var from = u.posToVal(u.select.left, "x") * 1000;
      var to = u.posToVal(u.select.left + u.select.width, "x") * 1000;
      u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      if (to - from < MIN_WINDOW_MS) { var middle = (from + to) / 2; from = middle - MIN_WINDOW_MS / 2; to = middle + MIN_WINDOW_MS / 2; }
      if (scope === card) pressed(null);
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
      pending = [];
      var mine = ++request;
      var width = plotBox.clientWidth || 600;
      // Following now, the server's own clock ends the window (its current minute), so a client clock a
      // little ahead never asks for the future.
      var url = card.dataset.seriesUrl.replace("SENSOR", sensorId()) + "?start=" + new Date(start).toISOString() +
        (following ? "" : "&end=" + new Date(end).toISOString()) + "&max_points=" + Math.max(200, Math.round(width));
      card.dataset.state = "loading";
      statusText.textContent = "Loading…";
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("The series API answered " + response.status + ".");
          return response.json();
        })
        .then(function (body) {
          if (mine !== request || !alive()) return;  // a newer request superseded this one
          var xs = new Array(body.points.length), ys = new Array(body.points.length);
          body.points.forEach(function (point, i) { xs[i] = Date.parse(point[0]) / 1000; ys[i] = point[1]; });
          data = [xs, ys];
          if (following) pending.forEach(function (sample) { append(sample[0], sample[1]); });
          pending = [];
          draw(data);
          describe();
          card.dataset.state = "ready";
          statusText.textContent = body.points.length + " points, " + (body.resolution === "minute" ? "every minute" : "min/max per bucket") + (following ? ", then live." : ".");
        })
        .catch(function (error) {
          if (mine !== request || !alive()) return;
          card.dataset.state = "error";
          statusText.textContent = "Couldn't load this sensor's history. " + error.message;
        });
    }

    function append(at, value) {
      if (data[0].length && at <= data[0][data[0].length - 1]) return;
      data[0].push(at);
      data[1].push(value);
    }

    function draw(data) {
      var width = plotBox.clientWidth || 600;
      if (plot) { plot.destroy(); }
      plot = new uPlot(options(width), data, plotBox);
    }

    rangeButtons.forEach(function (button) {
      button.addEventListener("click", function () {
        if (!alive()) return;
        pressed(button);
        following = true;
        var now = Date.now();
        load(now - Number(button.dataset.range) * 60000, now);
      });
    });
    if (select) {
      select.addEventListener("change", function () {
        load(view.start, following ? Date.now() : view.end);
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
    }
    // The live tail: each tick's value of the charted sensor, after the last minute the history API gave.
    if (window.demoLive) {
      window.demoLive.want(function () { return alive() ? [Number(sensorId())] : []; });
      if (select) select.addEventListener("change", window.demoLive.resubscribe);
      window.demoLive.on(function (tick) {
        var value = tick.values[sensorId()];
        var at = Date.parse(tick.sim_ts) / 1000;
        if (!alive() || !following || value === undefined) return;
        if (card.dataset.state === "loading") { pending.push([at, value]); return; }
        if (!plot || card.dataset.state !== "ready") return;
        if (tick.gap) { load(view.start, Date.now()); return; }  // ticks were missed: history fills the hole
        var before = data[0].length;
        append(at, value);
        plot.setData(data);
        if (table && table.open && data[0].length > before) rows.appendChild(row(at, value));
      });
    }
    var resizeTimer = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(function () { if (plot && alive()) plot.setSize({ width: plotBox.clientWidth, height: plot.height }); }, 150);
    });
    var current = scope.querySelector("[data-range][aria-pressed=true]");
    var now = Date.now();
    load(now - Number(current ? current.dataset.range : 1440) * 60000, now);
  }

  window.demoHistoryChart = { init: chart };
  document.querySelectorAll("[data-chart]").forEach(chart);
})();
