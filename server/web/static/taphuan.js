// The pages' only script, loaded from this site (CSP: no inline script). Pages work without it.
// A button marked data-print opens the browser's print dialog (the print stylesheet applies).
// A form marked data-once sends once: a double click never creates two things (the server
// refuses a second use of what the first spent, too; this only spares the second request).
// A box marked data-job-poll="URL" shows a background job's progress: the URL's fragment is
// fetched every second and swapped in; once the job has finished (X-Job-State done/failed) the
// page reloads to show the result. Without script the fragment's own reload link does the same.
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
  document.querySelectorAll("[data-job-poll]").forEach(function (box) {
    var url = box.getAttribute("data-job-poll");
    box.querySelectorAll(".job-refresh").forEach(function (p) { p.hidden = true; });
    var state = box.querySelector("[data-state]");
    if (!state || ["queued", "running"].indexOf(state.getAttribute("data-state")) < 0) { return; }
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          var done = response.headers.get("X-Job-State");
          return response.text().then(function (html) { return [response.ok, done, html]; });
        })
        .then(function (answer) {
          if (!answer[0]) { window.setTimeout(poll, 3000); return; }
          if (answer[1] === "done" || answer[1] === "failed") { window.location.reload(); return; }
          box.innerHTML = answer[2];
          box.querySelectorAll(".job-refresh").forEach(function (p) { p.hidden = true; });
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 1000);
  });
});
