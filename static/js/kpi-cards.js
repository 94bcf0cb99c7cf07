// The sandbox home's key figures when the page came before they were computed (a sandbox just made):
// fetched from the KPI API, formatted as the server formats them (sandboxes.views.figure).
(function () {
  "use strict";
  var list = document.querySelector("[data-kpis-url]");
  if (!list) return;

  function figure(value) {
    var digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
    return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function card(kpi) {
    var item = document.createElement("li");
    item.className = "kpi";
    [["kpi-name", kpi.name], ["kpi-value", figure(kpi.value)], ["kpi-unit", kpi.unit]].forEach(function (part) {
      var span = document.createElement("span");
      span.className = part[0];
      span.textContent = part[1];
      item.appendChild(span);
    });
    return item;
  }

  function load(attempt) {
    fetch(list.dataset.kpisUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (kpis) {
        list.replaceChildren.apply(list, kpis.map(card));
        list.removeAttribute("aria-busy");
      })
      .catch(function () {
        if (attempt < 3) { setTimeout(function () { load(attempt + 1); }, 1000 * (attempt + 1)); return; }
        list.querySelector(".kpi-name").textContent = "The key figures could not be loaded; reload the page to try again.";
      });
  }
  load(0);
})();
