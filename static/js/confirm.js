// Portal pages (My sandboxes): a form with data-confirm="question?" is sent only once the visitor says yes.
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => { if (!window.confirm(form.dataset.confirm)) event.preventDefault(); });
});
