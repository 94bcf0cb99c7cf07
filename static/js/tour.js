// The guided tour (Shepherd.js, served from static/vendor/shepherd). The server keeps the tour and the
// prospect's place in it (GET/POST /api/v1/tour): every page asks where they are and shows that step.
// A step waits for its condition: an event the server must see (polled), or a live value the page sees
// move (window.demoLive from sandbox.js). A step whose element is not on the page is reported and
// skipped, so the tour never freezes; "Skip tour" leaves a "Resume tour" button where they left.
(function () {
  "use strict";
  var slot = document.querySelector("[data-tour]");
  var bar = document.querySelector("[data-sandbox-id]");
  if (!slot || !bar || !window.fetch) return;
  var sandboxId = bar.dataset.sandboxId;
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  var Shepherd = null;
  var shown = null;        // the Shepherd tour on screen (one step at a time)
  var waiting = null;      // {step, check(tick), poll} of the step that waits for something
  var scaled = false;      // the plant's clock was sped up for the current step
  var POLL_MS = 2000;

  function send(url, method, body) {  // same origin, with the session and the page's CSRF token
    return fetch(url, {
      method: method, credentials: "same-origin", body: body ? JSON.stringify(body) : undefined,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.value : "" },
    });
  }
  function api(method, body) {
    return send(slot.dataset.tourUrl, method, body).then(function (response) {
      if (response.status === 409) return api("GET");  // not yet / not the current step: show where we are
      if (!response.ok) throw new Error("tour " + response.status);
      return response.json();
    });
  }
  function act(action, step) { return api("POST", { action: action, step: step || "" }).then(render); }

  function clock(scale) {  // speed the plant up to show a trend, and back to real time afterwards
    scaled = scale > 1;
    return send("/api/v1/sandboxes/" + sandboxId + "/clock", "POST", { time_scale: scale })
      .catch(function () { /* a clock that cannot change leaves the trend at real time */ });
  }

  function close() {
    if (waiting && waiting.poll) clearInterval(waiting.poll);
    waiting = null;
    if (shown) { var tour = shown; shown = null; tour.complete(); }
  }

  function samePage(url) {
    var a = document.createElement("a");
    a.href = url;
    return a.pathname.replace(/\/$/, "") === location.pathname.replace(/\/$/, "");
  }

  // A button in the sandbox bar; ``short`` is what a phone's narrow bar shows of it (the name stays whole).
  function button(text, onClick, primary, short) {
    var element = document.createElement("button");
    element.type = "button";
    element.className = "button button-small " + (primary ? "" : "button-ghost");
    if (short) {
      element.setAttribute("aria-label", text);
      var whole = document.createElement("span"), brief = document.createElement("span");
      whole.className = "bar-wide";
      whole.textContent = text;
      brief.className = "bar-narrow";
      brief.textContent = short;
      element.append(whole, brief);
    } else {
      element.textContent = text;
    }
    element.addEventListener("click", onClick);
    slot.replaceChildren(element);
  }

  function render(data) {
    close();
    slot.replaceChildren();
    if (data.status === "dismissed") {
      button("Resume tour · step " + data.position + " of " + data.count, function () { act("resume"); }, true, "Tour");
      return;
    }
    if (data.status === "finished") {
      button("Take the tour again", function () { act("restart"); }, false, "Tour again");
      return;
    }
    var step = data.steps.filter(function (s) { return s.id === data.step; })[0];
    if (!step) return;
    button("Skip tour", function () { act("dismiss"); });
    slot.firstChild.dataset.tourSkip = "";
    if (!samePage(step.url)) { showElsewhere(data, step); return; }
    var target = step.target ? document.querySelector(step.target) : null;
    if (step.target && !target) {
      if (window.console) console.warn("tour: step " + step.id + " skipped, " + step.target + " is not on this page");
      act("missing", step.id);
      return;
    }
    showStep(data, step, target);
  }

  function showElsewhere(data, step) {
    open(data, step, null, "Next: " + step.title, paragraph("This step is on another page of your plant."), [
      { text: "Skip tour", classes: "button button-ghost", action: function () { act("dismiss"); } },
      { text: "Take me there", classes: "button", action: function () { location.href = step.url; } },
    ]);
  }

  function paragraph(text) {
    var element = document.createElement("p");
    element.textContent = text;
    return element;
  }

  function stepBody(step) {
    var body = document.createElement("div");
    var parts = step.text.split("{value}");
    var text = document.createElement("p");
    parts.forEach(function (part, index) {
      text.appendChild(document.createTextNode(part));
      if (index < parts.length - 1) {
        var value = document.createElement("strong");
        value.dataset.tourValue = "";
        value.textContent = "…";
        text.appendChild(value);
      }
    });
    body.appendChild(text);
    if (step.until && Object.keys(step.until).length) {
      var wait = document.createElement("p");
      wait.className = "tour-wait";
      wait.dataset.tourWait = "";
      wait.setAttribute("role", "status");
      wait.textContent = waitText(step.until);
      body.appendChild(wait);
    }
    return body;
  }

  function waitText(until) {
    if (until.event === "optimization_applied") return "Waiting for you to apply it…";
    if (until.event === "alert_acknowledged") return "Waiting for you to acknowledge the alarm…";
    if (until.event === "savings_calculated") return "Waiting for you to run the calculation…";
    return "Watching the live plant…";
  }

  function open(data, step, target, title, body, buttons) {
    shown = new Shepherd.Tour({
      useModalOverlay: true,
      keyboardNavigation: false,
      exitOnEsc: true,
      defaultStepOptions: { cancelIcon: { enabled: true, label: "Skip tour" }, scrollTo: { behavior: "smooth", block: "center" } },
    });
    shown.addStep({
      id: step.id, title: title + " · " + data.position + "/" + data.count, text: body, buttons: buttons,
      attachTo: target ? { element: target, on: "bottom" } : undefined,
      classes: "demo-tour-step",
      canClickTarget: true,
    });
    shown.on("cancel", function () { shown = null; act("dismiss"); });
    shown.start();
  }

  function showStep(data, step, target) {
    recordShown(step);
    var until = step.until || {};
    var buttons = [{ text: "Skip tour", classes: "button button-ghost", action: function () { act("dismiss"); } }];
    var last = data.position === data.count;
    if (!until.event && !until.sensor) {
      buttons.push({ text: last ? "Finish" : "Next", classes: "button", action: function () { complete(step); } });
    }
    var body = stepBody(step);
    open(data, step, target, step.title, body, buttons);
    if (step.time_scale > 1) clock(step.time_scale);
    waiting = { step: step, baseline: null, done: false };
    if (step.live_sensor_id || until.sensor_id) {
      var ids = [step.live_sensor_id, until.sensor_id].filter(Boolean);
      if (window.demoLive) window.demoLive.want(function () { return waiting ? ids : []; });
    }
    if (until.event) {  // the server decides: poll until it has the event (the page may also reload)
      waiting.poll = setInterval(function () {
        api("GET").then(function (fresh) { if (fresh.step !== step.id || fresh.status !== "active") render(fresh); });
      }, POLL_MS);
    }
  }

  function recordShown(step) { api("POST", { action: "shown", step: step.id }).catch(function () {}); }

  function complete(step) {
    if (waiting) waiting.done = true;
    if (scaled) clock(1);
    act("complete", step.id);
  }

  function met(until, value, baseline) {
    if ("above" in until) return value > until.above;
    if ("below" in until) return value < until.below;
    if ("rises_by" in until) return value - baseline >= until.rises_by;
    if ("falls_by" in until) return baseline - value >= until.falls_by;
    return false;
  }

  function onTick(tick) {
    if (!waiting || waiting.done) return;
    var step = waiting.step;
    if (step.live_sensor_id && tick.values[step.live_sensor_id] !== undefined) {
      document.querySelectorAll("[data-tour-value]").forEach(function (element) {
        element.textContent = window.demoFigure(tick.values[step.live_sensor_id]);
      });
    }
    var until = step.until || {};
    var value = until.sensor_id ? tick.values[until.sensor_id] : undefined;
    if (value === undefined) return;
    if (waiting.baseline === null) waiting.baseline = value;
    if (!met(until, value, waiting.baseline)) return;
    waiting.done = true;
    var wait = document.querySelector("[data-tour-wait]");
    if (wait) { wait.textContent = "✓ The plant responded: " + window.demoFigure(value); wait.dataset.tourWait = "done"; }
    setTimeout(function () { complete(step); }, 1500);
  }

  var liveHooked = false;
  function start() {
    if (window.demoLive && !liveHooked) { window.demoLive.on(onTick); liveHooked = true; }
    import(slot.dataset.shepherd).then(function (module) {
      Shepherd = module.default;
      return api("GET");
    }).then(render).catch(function () { slot.replaceChildren(); /* no tour here (staff watching) */ });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
