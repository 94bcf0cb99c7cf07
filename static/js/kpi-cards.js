// The sandbox home's key figures when the page came before they were computed (a sandbox just made):
// fetched from the KPI API, formatted by sandbox.js's demoFigure (loaded before this script).
(function () {
  "use strict";
  var list = document.querySelector("[data-kpis-url]");
  if (!list) return;

  function card(kpi) {
    var item = document.createElement("li");
    item.className = "kpi";
    [["kpi-name", kpi.name], ["kpi-value", window.demoFigure(kpi.value)], ["kpi-unit", kpi.unit]].forEach(function (part) {
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
