// The demo selection (portal/demo_new.html), moved out of the page so the Content-Security-Policy needs no
// inline script. The figures come from the page's "tour-minutes" JSON: product → role → industry → minutes,
// each derived by the catalogue from the tour's own steps on that industry's plant.
// The estimates follow what is chosen: exact once product, role and industry are, else the span across what
// is not chosen yet. Without script the cards show the spans the server wrote.
(() => {
  const minutes = JSON.parse(document.getElementById("tour-minutes").textContent);
  const form = document.querySelector(".demo-form");
  const line = form.querySelector("[data-tour-estimate]");
  const chosen = (name) => {
    const input = form.querySelector(`input[name=${name}]:checked`);
    return input ? input.value : null;
  };
  const span = (figures) => {
    if (!figures.length) return "";
    const low = Math.min(...figures), high = Math.max(...figures);
    return low === high ? `${low}` : `${low}–${high}`;
  };
  const update = () => {
    const product = chosen("product"), role = chosen("role"), industry = chosen("industry");
    const figures = (products, roles) => products.flatMap((p) => roles.flatMap((r) =>
      Object.entries((minutes[p] || {})[r] || {}).filter(([i]) => !industry || i === industry).map(([, m]) => m)));
    form.querySelectorAll("[data-tour-minutes]").forEach((cell) => {
      const [p, r] = cell.dataset.tourMinutes.split(".");
      cell.textContent = span(figures([p], [r]));
    });
    form.querySelectorAll("[data-tour-role]").forEach((meta) => {
      meta.textContent = `Estimated tour: ${span(figures(product ? [product] : Object.keys(minutes), [meta.dataset.tourRole]))} min`;
    });
    const estimate = product && role ? span(figures([product], [role])) : "";
    line.hidden = estimate === "";
    line.querySelector("strong").textContent = estimate;
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
