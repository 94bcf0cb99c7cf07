// The sandbox home's "Right now" figures: the plant's fuel input (in the unit its fuel meters read), its cost
// and its CO₂ an hour, recomputed from every live tick of the meters. The server gives each fuel meter's
// factor to that unit, the price and the fuel's t CO₂ per unit of energy, and, where the plant makes
// clinker, each clinker meter's t CO₂ per t (calcination); the first figures are the server's, for the
// plant's current minute (simulation.selectors.plant.plant_now).
(function () {
  "use strict";
  var list = document.querySelector("[data-plant-now]");
  if (!list || !window.demoLive) return;
  var plant = JSON.parse(list.dataset.plantNow);
  var meters = plant.meters.concat(plant.process_meters);
  var latest = {};
  window.demoLive.want(function () { return meters.map(function (meter) { return meter.id; }); });

  function sum(group) {
    return group.reduce(function (total, meter) { return total + latest[meter.id]; }, 0);
  }

  window.demoLive.on(function (tick) {
    var seen = false;
    meters.forEach(function (meter) {
      var value = tick.values[meter.id];
      if (value !== undefined) { latest[meter.id] = Math.max(0, value) * meter.factor; seen = true; }
    });
    if (!seen || Object.keys(latest).length < meters.length) return;  // every meter before a total
    var firing = sum(plant.meters);
    var process = sum(plant.process_meters);
    var co2 = firing * plant.co2_per_unit;
    var figures = { firing: firing, cost: firing * plant.price, co2: co2, co2_process: process, co2_total: co2 + process };
    list.querySelectorAll("[data-now]").forEach(function (element) {
      element.textContent = window.demoFigure(figures[element.dataset.now]);
    });
  });
})();
