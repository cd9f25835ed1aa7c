// Letters: the batch-print progress bar and the receipt form's method switch.
(function () {
  "use strict";

  var box = document.getElementById("batch-job");
  if (box) {
    var bar = box.querySelector("[data-bar]");
    var text = box.querySelector("[data-text]");
    var count = box.querySelector("[data-count]");
    var link = box.querySelector("[data-download]");
    var show = function (s) {
      var pct = Math.max(0, Math.min(100, s.percent || 0));
      bar.style.width = pct + "%";
      bar.textContent = pct + "%";
      bar.parentNode.setAttribute("aria-valuenow", String(pct));
      var label = text.dataset["label" + s.status.charAt(0).toUpperCase() + s.status.slice(1)] || s.status;
      text.firstChild.nodeValue = label + (s.status === "failed" && s.error ? " " + s.error + " " : " ");
      count.textContent = s.progress + " / " + s.total;
      if (s.status === "done" && s.download) {
        link.href = s.download;
        link.hidden = false;
        link.classList.remove("d-none");
      }
      if (s.status === "failed") { bar.classList.add("bg-danger"); }
      return s.status === "done" || s.status === "failed";
    };
    // An answer that is not the job's status (a login page after the session ended, a 404)
    // stops the polling with a message; a server error or no connection is tried again.
    var poll = function () {
      fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) {
          var json = (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          if (r.ok && json) { return r.json(); }
          if (r.status >= 500) { return null; }
          throw new Error("lost");
        })
        .then(function (s) { if (!s || !show(s)) { window.setTimeout(poll, 1000); } })
        .catch(function (err) {
          if (err && err.message === "lost") { text.firstChild.nodeValue = text.dataset.labelLost + " "; return; }
          window.setTimeout(poll, 3000);
        });
    };
    if (box.dataset.status !== "done" && box.dataset.status !== "failed") { poll(); }
  }

  // Receipt forms: an announcement has a start date instead of a receiver and receipt date.
  document.querySelectorAll("[data-receipt-form]").forEach(function (form) {
    var sel = form.querySelector("[data-receipt-method]");
    var sync = function () {
      var ann = sel.value === "announcement";
      form.querySelectorAll("[data-receipt-delivered]").forEach(function (el) { el.hidden = ann; });
      form.querySelectorAll("[data-receipt-announced]").forEach(function (el) { el.hidden = !ann; });
    };
    sel.addEventListener("change", sync);
    sync();
  });
})();
