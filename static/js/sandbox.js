// Every page of a sandbox: time-left countdown, confirmations, the live-connection indicator, and the
// client-side analytics events (POST /api/v1/events, same origin, with the page's CSRF token).
(function () {
  "use strict";
  var bar = document.querySelector("[data-sandbox-id]");
  if (!bar) return;
  var sandboxId = Number(bar.dataset.sandboxId);
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");

  // --- analytics events ---------------------------------------------------------------------------
  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }
  function record(name, properties) {
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

  // --- live connection -----------------------------------------------------------------------------
  var live = bar.querySelector("[data-live]");
  var delay = 1000;
  function connect() {
    var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/ping/");
    var pinger = null;
    socket.onopen = function () {
      delay = 1000;
      live.dataset.state = "live"; live.lastElementChild.textContent = "Live";
      pinger = setInterval(function () { socket.send(JSON.stringify({ type: "ping" })); }, 15000);
    };
    socket.onclose = function (event) {
      clearInterval(pinger);
      live.dataset.state = "closed";
      if (event.code === 4404) { live.lastElementChild.textContent = "Sandbox ended"; return; }
      live.lastElementChild.textContent = "Reconnecting…";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  if (live && "WebSocket" in window) connect();
})();
