// The pages' only script, loaded from this site (CSP: no inline script). Pages work without it.
// A button marked data-print opens the browser's print dialog (the print stylesheet applies).
// A form marked data-once sends once: a double click never creates two things (the server
// refuses a second use of what the first spent, too; this only spares the second request).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.setAttribute("aria-disabled", "true");
      });
    });
  });
});
