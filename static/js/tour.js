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

  // --- where the card goes: never over the element it points at --------------------------------------------
  // Measured once the card is drawn (its height depends on its text and the screen), then the page is scrolled
  // to the plan: (1) the target and the card one under the other, both on screen (the card below, or above
  // where the page ends); (2) beside a target taller than the window, on a screen wide enough; (3) above such
  // a target, the card at the top of the window and the target's start under it; (4) when the page has no room
  // above it either (it starts near the top), the card docks at the bottom of the window, over the part of the
  // target the window cannot show anyway. Floating UI then keeps the card on that side (demoPlacement, first
  // in the chain before Shepherd's flip and shift, with the gap between card and target).
  var GAP = 14;     // px between the card and the highlighted target (more than the highlight's padding)
  var MARGIN = 12;  // px kept free at the window's edges
  var plan = null;  // {side, dock, scroll} of the step on screen
  var motion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth";

  function planFor(target, card) {
    var view = window.innerHeight, width = document.documentElement.clientWidth;
    var box = target.getBoundingClientRect();
    var top = box.top + window.scrollY, bottom = box.bottom + window.scrollY;
    var tall = card.offsetHeight + GAP, wide = card.offsetWidth + GAP;
    var most = Math.max(0, document.documentElement.scrollHeight - view);
    function clamp(y) { return Math.max(0, Math.min(most, Math.round(y))); }
    function fits(from, to, scroll) { return from - scroll >= MARGIN - 1 && to - scroll <= view - MARGIN + 1; }
    if (box.height + tall + 2 * MARGIN <= view) {
      var spare = (view - box.height - tall) / 2;
      var below = clamp(top - spare), above = clamp(top - tall - spare);
      if (fits(top, bottom + tall, below)) return { side: "bottom", scroll: below };
      if (fits(top - tall, bottom, above)) return { side: "top", scroll: above };
    }
    var start = clamp(top - MARGIN);
    if (width - box.right >= wide + MARGIN) return { side: "right-start", scroll: start };
    if (box.left >= wide + MARGIN) return { side: "left-start", scroll: start };
    var under = clamp(top - tall - MARGIN);
    if (top - tall - under >= MARGIN - 1) return { side: "top", scroll: under };
    return { side: "bottom", dock: true, scroll: start };
  }

  // Named "offset" as Floating UI's own: Shepherd's shift (limitShift) reads the gap from middlewareData.offset.
  var demoPlacement = {
    name: "offset",
    fn: function (state) {
      if (!plan || plan.dock) return {};
      var done = state.middlewareData.offset && state.middlewareData.offset.planned;
      if (!done && state.placement !== plan.side) return { data: { planned: true }, reset: { placement: plan.side } };
      var side = state.placement.split("-")[0];
      var dx = side === "right" ? GAP : side === "left" ? -GAP : 0;
      var dy = side === "bottom" ? GAP : side === "top" ? -GAP : 0;
      return { x: state.x + dx, y: state.y + dy, data: { planned: true, x: dx, y: dy } };
    },
  };

  function replan(step, target) {
    if (!step || !step.el || !target) { plan = null; return; }
    plan = planFor(target, step.el);
    step.el.classList.toggle("demo-tour-docked", Boolean(plan.dock));
    step.el.dataset.tourSide = plan.dock ? "docked" : plan.side;
  }
  window.addEventListener("resize", function () {
    var step = shown && shown.getCurrentStep();
    if (step && step.target) replan(step, step.target);
  });

  // Scroll to the plan; when the page has moved under it meanwhile (a chart drawn, a bar line gone), once more.
  function scrollToPlan() {
    var step = shown && shown.getCurrentStep();
    if (!plan || !step) return;
    var mine = plan, began = Date.now();
    if (Math.abs(window.scrollY - plan.scroll) < 1) return;  // there already: no scroll, so no scrollend
    window.addEventListener("scrollend", function () {
      if (plan !== mine || !step.target || !step.el || Date.now() - began > 3000) return;  // not the prospect's own
      replan(step, step.target);
      if (Math.abs(plan.scroll - window.scrollY) > 4) window.scrollTo({ top: plan.scroll, behavior: motion });
    }, { once: true });
    window.scrollTo({ top: plan.scroll, behavior: motion });
  }

  function open(data, step, target, title, body, buttons) {
    plan = null;
    shown = new Shepherd.Tour({
      useModalOverlay: true,
      keyboardNavigation: false,
      exitOnEsc: true,
      defaultStepOptions: {
        cancelIcon: { enabled: true, label: "Skip tour" },
        scrollTo: true,
        scrollToHandler: scrollToPlan,
        modalOverlayOpeningPadding: 6,
        modalOverlayOpeningRadius: 8,
        floatingUIOptions: { middleware: [demoPlacement] },
      },
    });
    var added = shown.addStep({
      id: step.id, title: title + " · " + data.position + "/" + data.count, text: body, buttons: buttons,
      attachTo: target ? { element: target, on: "bottom" } : undefined,
      classes: "demo-tour-step",
      canClickTarget: true,
    });
    added.on("show", function () { replan(added, target); });
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
