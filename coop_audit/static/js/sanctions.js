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
