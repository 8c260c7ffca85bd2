// The pages' only script, loaded from this site (CSP: no inline script). Pages work without it.
// A button marked data-print opens the browser's print dialog (the print stylesheet applies).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
});
