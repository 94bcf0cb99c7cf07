// Every portal page (templates/base.html): a form that came back with errors starts at its error summary
// (templates/forms/_error_summary.html), so a keyboard or screen-reader user lands on what to fix. The summary's
// links move the focus to their field's input, not just the scroll position.
(() => {
  const summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  summary.focus();
  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    target.scrollIntoView({ block: "center" });
    target.focus();
  });
})();
