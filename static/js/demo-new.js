// The demo selection (portal/demo_new.html), moved out of the page so the Content-Security-Policy needs no
// inline script. The figures come from the page's "tour-minutes" JSON.
// The estimate follows the chosen product × role; without script the cards show the figures per role.
(() => {
  const minutes = JSON.parse(document.getElementById("tour-minutes").textContent);
  const form = document.querySelector(".demo-form");
  const line = form.querySelector("[data-tour-estimate]");
  const update = () => {
    const product = form.querySelector("input[name=product]:checked");
    const role = form.querySelector("input[name=role]:checked");
    const figure = product && role ? (minutes[product.value] || {})[role.value] : undefined;
    line.hidden = figure === undefined;
    line.querySelector("strong").textContent = figure === undefined ? "" : figure;
    if (product) {
      form.querySelectorAll("[data-tour-role]").forEach((meta) => {
        meta.textContent = `Estimated tour: ${(minutes[product.value] || {})[meta.dataset.tourRole]} min`;
      });
    }
  };
  form.addEventListener("change", update);
  update();
})();
// A click shows progress at once; the server answers in well under a second, then hands over.
document.querySelectorAll("form[data-progress]").forEach((form) => {
  form.addEventListener("submit", () => {
    form.querySelector(".progress").hidden = false;
    form.querySelectorAll("button[type=submit]").forEach((button) => { button.disabled = true; });
  });
});
