// journey: a little progressive enhancement. Every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // "Go back" links on error pages (CSP forbids inline handlers and javascript: URLs).
  document.querySelectorAll("[data-back]").forEach((link) => {
    link.addEventListener("click", (event) => {
      if (history.length > 1) { event.preventDefault(); history.back(); }
    });
  });
  // Filters submit as soon as a select changes.
  document.querySelectorAll("form.filters select, form.filters input[type=checkbox]").forEach((field) => {
    field.addEventListener("change", () => field.form.requestSubmit());
  });
  // Avoid double submissions (a double click on "Accept" or "Replay").
  document.querySelectorAll("form[method=post]").forEach((form) => {
    form.addEventListener("submit", () => {
      setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; }), 0);
    });
  });
  // Sending a packet back needs a comment.
  document.querySelectorAll(".ack-form").forEach((form) => {
    form.addEventListener("submit", (event) => {
      const comment = form.querySelector("textarea[name=comment]");
      if (event.submitter && event.submitter.value === "return" && !comment.value.trim()) {
        event.preventDefault();
        comment.setCustomValidity("Say what is missing or unclear.");
        comment.reportValidity();
        comment.addEventListener("input", () => comment.setCustomValidity(""), { once: true });
        setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = false; }), 0);
      }
    });
  });
});
