// Every page of a sandbox: time-left countdown, confirmations, the live-connection indicator, and the
// client-side analytics events (POST /api/v1/events, same origin, with the page's CSRF token).
(function () {
  "use strict";
  var bar = document.querySelector("[data-sandbox-id]");
  if (!bar) return;
  var sandboxId = Number(bar.dataset.sandboxId);
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");

  // A figure as the server formats it (simulation.selectors.display.figure): decimals only where they carry
  // information.
  function figure(value) {
    var digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
    return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  window.demoFigure = figure;

  // A moment as the server writes it on every page (demoportal.core.formats.moment_text): "3 Dec 2026 16:13 UTC".
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function two(number) { return String(number).padStart(2, "0"); }
  function moment(value) {
    var at = new Date(value);
    return at.getUTCDate() + " " + MONTHS[at.getUTCMonth()] + " " + at.getUTCFullYear() + " " +
      two(at.getUTCHours()) + ":" + two(at.getUTCMinutes()) + " UTC";
  }
  window.demoMoment = moment;

  // --- analytics events ---------------------------------------------------------------------------
  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }
  // Staff watching a prospect's sandbox read-only: what they look at is not the prospect's engagement.
  var watching = "readOnly" in bar.dataset;
  function record(name, properties) {
    if (watching) return Promise.resolve();
    var body = JSON.stringify({
      event: name, sandbox_id: sandboxId, properties: properties || {},
      occurred_at: new Date().toISOString(), idempotency_key: key(),
    });
    return fetch("/api/v1/events", {
      method: "POST", credentials: "same-origin", keepalive: true, body: body,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
    }).catch(function () { /* analytics never gets in the prospect's way */ });
  }
  window.demoEvents = { record: record };

  // After the page has loaded, so these never compete with what the prospect is waiting for.
  function recordPage() {
    record("page_view", { path: location.pathname });
    var pageEvent = document.querySelector("[data-page-event]");
    if (pageEvent) record(pageEvent.dataset.pageEvent, { path: location.pathname });
    if (!("IntersectionObserver" in window)) return;
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        seen.unobserve(entry.target);
        record("feature_viewed", { feature: entry.target.dataset.feature });
      });
    }, { threshold: 0.5 });
    document.querySelectorAll("[data-feature]").forEach(function (element) { seen.observe(element); });
  }
  if (document.readyState === "complete") setTimeout(recordPage, 500);
  else window.addEventListener("load", function () { setTimeout(recordPage, 500); });
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-event]");
    if (target) record(target.dataset.event, { feature: target.dataset.eventFeature || "" });
  });

  // --- confirmations --------------------------------------------------------------------------------
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
  });

  // --- the sandbox's actions on a phone: a disclosure (button + panel) ----------------------------------
  // Wide screens show Extend / Reset / End in the bar; narrow ones fold them under "Sandbox" (CSS decides by
  // width, this only opens and closes). Escape or a click elsewhere closes it; focus goes back to the button.
  var menuButton = bar.querySelector("[data-sandbox-menu]");
  var menu = menuButton && document.getElementById(menuButton.getAttribute("aria-controls"));
  function menuSet(open) {
    menuButton.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) menu.dataset.open = ""; else delete menu.dataset.open;
  }
  if (menuButton && menu) {
    menuButton.hidden = false;
    bar.dataset.menu = "";
    menuButton.addEventListener("click", function () { menuSet(menuButton.getAttribute("aria-expanded") !== "true"); });
    bar.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || menuButton.getAttribute("aria-expanded") !== "true") return;
      if (!menu.contains(event.target) && event.target !== menuButton) return;
      menuSet(false);
      menuButton.focus();
    });
    document.addEventListener("click", function (event) {
      if (!menu.contains(event.target) && !menuButton.contains(event.target)) menuSet(false);
    });
  }

  // --- time left -----------------------------------------------------------------------------------
  var countdown = bar.querySelector("[data-countdown]");
  var expiresAt = Date.parse(bar.dataset.expiresAt);
  function tick() {
    var left = Math.max(0, expiresAt - Date.now());
    var hours = Math.floor(left / 3600000), minutes = Math.floor((left % 3600000) / 60000), seconds = Math.floor((left % 60000) / 1000);
    countdown.textContent = (hours ? hours + " h " : "") + String(minutes).padStart(hours ? 2 : 1, "0") + " min" + (hours ? "" : " " + String(seconds).padStart(2, "0") + " s");
    bar.dataset.urgency = left < 3600000 ? "soon" : "";
    if (left === 0) { countdown.textContent = "No time"; clearInterval(timer); }
  }
  var timer = countdown && expiresAt ? setInterval(tick, 1000) : null;
  if (timer) tick();

  // --- live plant values -----------------------------------------------------------------------------
  // One websocket per page (/ws/live/): every tick updates each [data-live-sensor] element and is handed
  // to the page's own listeners (window.demoLive.on). Reconnects with backoff; values go stale after 5 s
  // without a tick.
  var live = bar.querySelector("[data-live]");
  var listeners = [];
  var wanted = [];  // functions returning sensor ids a page script shows (e.g. the chart's sensor)
  var socket = null;
  var lastTick = 0;
  var lastSeq = null;
  var reconnected = false;
  var delay = 1000;

  function subscribe() {  // only the sensors this page shows: the ticks stay small
    if (!socket || socket.readyState !== 1) return;
    var ids = {};
    document.querySelectorAll("[data-live-sensor]").forEach(function (element) { ids[element.dataset.liveSensor] = true; });
    wanted.forEach(function (ask) { (ask() || []).forEach(function (id) { ids[id] = true; }); });
    socket.send(JSON.stringify({ type: "subscribe", sensors: Object.keys(ids).map(Number) }));
  }
  window.demoLive = {
    on: function (listener) { listeners.push(listener); },
    want: function (ask) { wanted.push(ask); subscribe(); },
    resubscribe: subscribe,
  };

  function state(name, text) {
    live.dataset.state = name;
    live.lastElementChild.textContent = text;
    document.body.dataset.liveState = name;
  }

  // The plant's clock: shown while it runs faster than real time (the speed said too), or while the plant's
  // time is a minute or more ahead of the wall clock after it ran fast. A change of speed is announced.
  var clockBox = bar.querySelector("[data-plant-clock]");
  var clockNews = bar.querySelector("[data-plant-speed-news]");
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function plantClock(tick) {
    if (!clockBox || !tick.sim_ts) return;
    var sim = new Date(tick.sim_ts), wall = new Date(tick.ts || Date.now());
    var scale = Number(tick.time_scale) || 1;
    clockBox.hidden = !(scale > 1 || sim - wall >= 60000);
    var sameDay = sim.toISOString().slice(0, 10) === wall.toISOString().slice(0, 10);
    var time = clockBox.querySelector("[data-plant-time] time");
    time.dateTime = sim.toISOString();
    time.textContent = (sameDay ? "" : sim.getUTCDate() + " " + MONTHS[sim.getUTCMonth()] + " ") + sim.toISOString().slice(11, 16);
    var speed = clockBox.querySelector("[data-plant-speed]");
    speed.hidden = scale === 1;
    speed.querySelector("strong").textContent = scale + "×";
    if (String(scale) !== clockBox.dataset.timeScale) {
      clockBox.dataset.timeScale = String(scale);
      clockNews.textContent = scale > 1 ? "The plant's clock now runs at " + scale + "× speed: values move " + scale + " times faster than in real time." : "The plant's clock is back to real time.";
    }
  }

  function show(tick) {
    plantClock(tick);
    document.querySelectorAll("[data-live-sensor]").forEach(function (element) {
      var value = tick.values[element.dataset.liveSensor];
      if (value === undefined) return;
      element.textContent = figure(value);
      if (element.dataset.normalLow === undefined) return;
      var holder = element.closest("[data-range-holder]") || element;  // out of its normal range: flagged
      holder.dataset.range = value < Number(element.dataset.normalLow) || value > Number(element.dataset.normalHigh) ? "out" : "in";
    });
    listeners.forEach(function (listener) { listener(tick); });
  }

  function connect() {
    socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/live/");
    socket.onopen = function () { delay = 1000; state("connecting", "Waiting for the plant…"); subscribe(); };
    socket.onmessage = function (message) {
      var data = JSON.parse(message.data);
      if (data.type !== "tick") return;
      // A tick missed (its sandbox's seq skipped) or the first after a reconnect: listeners that keep a
      // history (the charts) fetch it again instead of drawing across the hole.
      data.gap = lastSeq === null ? reconnected : data.seq !== lastSeq + 1;
      lastSeq = data.seq;
      reconnected = false;
      lastTick = Date.now();
      if (live.dataset.state !== "live") state("live", "Live");
      show(data);
    };
    socket.onclose = function (event) {
      lastSeq = null;
      reconnected = true;
      if (event.code === 4404) { state("closed", "Sandbox ended"); return; }
      if (event.code === 4403) { state("closed", "Signed out"); return; }
      state("closed", "Reconnecting…");
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  if (live && "WebSocket" in window) {
    connect();
    setInterval(function () {
      if (live.dataset.state === "live" && Date.now() - lastTick > 5000) state("stale", "Values paused");
    }, 1000);
  }
})();
