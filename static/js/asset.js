// An asset's page: the trend picker (charts added and removed as sensors are ticked, without a reload),
// alarms arriving in live ticks (tick.events) put at the top of the list, and the savings calculator's
// current efficiency following the live value until the prospect types their own.
(function () {
  "use strict";
  var hero = document.querySelector("[data-asset-tag]");
  if (!hero) return;
  var assetTag = hero.dataset.assetTag;

  // --- trend picker ----------------------------------------------------------------------------------
  var picker = document.querySelector("[data-trend-picker]");
  var charts = document.querySelector("[data-trend-charts]");
  if (picker && charts && window.demoHistoryChart) {
    picker.querySelector("[data-trend-apply]").hidden = true;  // ticking a box is enough with JavaScript
    picker.addEventListener("change", function (event) {
      var box = event.target;
      if (!box.matches("input[name=trend]")) return;
      var shown = charts.querySelector('[data-chart][data-sensor-id="' + box.value + '"]');
      if (box.checked && !shown) {
        var template = document.querySelector('template[data-trend-template="' + box.value + '"]');
        var card = template.content.firstElementChild.cloneNode(true);
        var boxes = Array.prototype.slice.call(picker.querySelectorAll("input[name=trend]"));
        var after = boxes.slice(0, boxes.indexOf(box)).reverse().map(function (b) {  // keep the picker's order
          return charts.querySelector('[data-chart][data-sensor-id="' + b.value + '"]');
        }).filter(Boolean)[0];
        if (after) after.after(card); else charts.prepend(card);
        window.demoHistoryChart.init(card);
        window.demoLive && window.demoLive.resubscribe();
        window.demoEvents && window.demoEvents.record("feature_clicked", { feature: "asset_trend", sensor: card.dataset.label });
      } else if (!box.checked && shown) {
        shown.remove();
        window.demoLive && window.demoLive.resubscribe();
      }
      // A reload or a shared link shows the same charts; after a form's POST (e.g. /savings) the
      // address becomes the asset page's own, which a reload can GET.
      var url = new URL(picker.action);
      url.hash = "";
      picker.querySelectorAll("input[name=trend]:checked").forEach(function (b) { url.searchParams.append("trend", b.value); });
      history.replaceState(null, "", url);
    });
  }

  // --- alarms arriving live ----------------------------------------------------------------------------
  var alarms = document.getElementById("asset-alarms");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
  var KIND_LABELS = { alarm: "Alarm", maintenance_due: "Maintenance due", permit_exceedance: "Permit exceedance" };

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function eventItem(event) {
    var item = element("li", "event event-" + event.kind + " event-new");
    item.dataset.eventKey = event.key;
    item.appendChild(element("span", "event-kind", KIND_LABELS[event.kind] || event.kind));
    item.appendChild(element("span", "event-message", event.message));
    var meta = element("span", "event-meta muted");
    var at = new Date(event.sim_ts);
    var time = element("time", "", window.demoMoment(at) + " · just now");  // as the server writes it (|moment)
    time.dateTime = at.toISOString();
    meta.appendChild(time);
    item.appendChild(meta);
    if (event.kind === "alarm" && !("readOnly" in alarms.dataset) && csrf) {
      var form = element("form", "event-ack-form");
      form.method = "post";
      form.action = alarms.dataset.ackUrl.replace("KEY", encodeURIComponent(event.key));
      [["csrfmiddlewaretoken", csrf.value], ["next", alarms.dataset.next]].forEach(function (pair) {
        var input = element("input");
        input.type = "hidden";
        input.name = pair[0];
        input.value = pair[1];
        form.appendChild(input);
      });
      var button = element("button", "button button-small button-ghost", "Acknowledge");
      button.dataset.ack = event.key;
      form.appendChild(button);
      item.appendChild(form);
    }
    return item;
  }

  if (alarms && window.demoLive) {
    window.demoLive.on(function (tick) {
      (tick.events || []).forEach(function (event) {
        if (!event || event.asset_tag !== assetTag || !event.key) return;
        if (alarms.querySelector('[data-event-key="' + CSS.escape(event.key) + '"]')) return;  // shown already
        var empty = alarms.querySelector("[data-empty]");
        if (empty) empty.remove();
        alarms.prepend(eventItem(event));
      });
    });
  }

  // --- the calculator's current efficiency follows the live value until edited ---------------------------
  var prefill = document.querySelector("[data-live-prefill]");
  if (prefill && window.demoLive) {
    var edited = false;
    prefill.addEventListener("input", function () { edited = true; });
    window.demoLive.on(function (tick) {
      var value = tick.values[prefill.dataset.livePrefill];
      if (!edited && value !== undefined && document.activeElement !== prefill) prefill.value = value.toFixed(1);
    });
  }
})();
