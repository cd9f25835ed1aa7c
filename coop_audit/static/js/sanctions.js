// Sanctions: on a narrow screen the workflow diagram scrolls inside its own box; start it
// scrolled so the cooperative's current state is in view.
(function () {
  "use strict";

  document.querySelectorAll("[data-scroll-to-current]").forEach(function (box) {
    var current = box.querySelector("g.current rect");
    if (!current || box.scrollWidth <= box.clientWidth) { return; }
    var boxRect = box.getBoundingClientRect();
    var r = current.getBoundingClientRect();
    var centre = r.left - boxRect.left + box.scrollLeft + r.width / 2;
    box.scrollLeft = Math.max(0, centre - box.clientWidth / 2);
  });
})();

// Bulk sign-off page: follow the job's progress; when it has ended, reload the page, which then
// lists what was signed and what was not (and why). An answer that is not the job's status (a
// login page after the session ended, a 404) stops the polling with a message.
(function () {
  "use strict";

  var box = document.getElementById("sign-job");
  if (!box || box.dataset.status === "done" || box.dataset.status === "failed") { return; }
  var bar = box.querySelector("[data-bar]");
  var text = box.querySelector("[data-text]");
  var count = box.querySelector("[data-count]");
  var say = function (label) { text.firstChild.nodeValue = label + " "; };
  var poll = function () {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        var json = (r.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (r.ok && json) { return r.json(); }
        if (r.status >= 500) { return null; }  // the server may be restarting: try again
        throw new Error("lost");
      })
      .then(function (s) {
        if (!s) { window.setTimeout(poll, 3000); return; }
        if (s.status === "done" || s.status === "failed") { window.location.reload(); return; }
        var pct = Math.max(0, Math.min(100, s.percent || 0));
        bar.style.width = pct + "%";
        bar.textContent = pct + "%";
        bar.parentNode.setAttribute("aria-valuenow", String(pct));
        say(s.stalled ? text.dataset.labelStalled : (text.dataset["label" + s.status.charAt(0).toUpperCase() + s.status.slice(1)] || s.status));
        count.textContent = s.progress + " / " + s.total;
        window.setTimeout(poll, 1000);
      })
      .catch(function (err) {
        if (err && err.message === "lost") { say(text.dataset.labelLost); return; }
        window.setTimeout(poll, 3000);  // no connection: try again
      });
  };
  poll();
})();
