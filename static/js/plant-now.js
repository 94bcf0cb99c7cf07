// The sandbox home's "Right now" figures: the plant's fuel input, its cost and its CO₂ an hour, recomputed
// from every live tick of the fuel meters (the server gives each meter's factor to MMBtu/h, the fuel
// price and the fuel's CO₂ per MMBtu; the first figures are the server's, for the plant's current minute).
(function () {
  "use strict";
  var list = document.querySelector("[data-plant-now]");
  if (!list || !window.demoLive) return;
  var plant = JSON.parse(list.dataset.plantNow);
  var latest = {};
  window.demoLive.want(function () { return plant.meters.map(function (meter) { return meter.id; }); });
  window.demoLive.on(function (tick) {
    var seen = false;
    plant.meters.forEach(function (meter) {
      var value = tick.values[meter.id];
      if (value !== undefined) { latest[meter.id] = Math.max(0, value) * meter.factor; seen = true; }
    });
    if (!seen || Object.keys(latest).length < plant.meters.length) return;  // every meter before a total
    var firing = Object.keys(latest).reduce(function (sum, id) { return sum + latest[id]; }, 0);
    var figures = { firing: firing, cost: firing * plant.price, co2: firing * plant.co2_per_mmbtu };
    list.querySelectorAll("[data-now]").forEach(function (element) {
      element.textContent = window.demoFigure(figures[element.dataset.now]);
    });
  });
})();
