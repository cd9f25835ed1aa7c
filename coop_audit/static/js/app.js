// Small progressive enhancements; the pages work without JavaScript.
(function () {
  "use strict";
  // Village select follows the kecamatan select (forms and filters).
  document.querySelectorAll("select[data-village-for]").forEach(function (villageSel) {
    var kecSel = document.getElementById(villageSel.dataset.villageFor);
    if (!kecSel) return;
    var all = Array.prototype.slice.call(villageSel.options).map(function (o) {
      return { value: o.value, text: o.text, kec: o.dataset.kec || "" };
    });
    function refresh() {
      var kec = kecSel.value, current = villageSel.value;
      villageSel.innerHTML = "";
      all.forEach(function (o) {
        if (!o.value || !kec || o.kec === kec) {
          var opt = new Option(o.text, o.value);
          opt.dataset.kec = o.kec;
          if (o.value === current) opt.selected = true;
          villageSel.add(opt);
        }
      });
    }
    kecSel.addEventListener("change", refresh);
    refresh();
  });
  // Controls that only work with this script are hidden in the markup and shown here.
  document.querySelectorAll("[data-needs-js]").forEach(function (el) { el.hidden = false; });
  // A "select all" checkbox ticks every enabled checkbox named by its data-check-all, and
  // shows whether all, some or none of them are ticked.
  document.querySelectorAll("[data-check-all]").forEach(function (all) {
    var boxes = function () {
      return Array.prototype.filter.call(
        document.querySelectorAll('input[name="' + all.dataset.checkAll + '"]'),
        function (cb) { return !cb.disabled; });
    };
    var sync = function () {
      var ticked = boxes().filter(function (cb) { return cb.checked; }).length;
      all.checked = ticked > 0 && ticked === boxes().length;
      all.indeterminate = ticked > 0 && ticked < boxes().length;
    };
    all.addEventListener("change", function () {
      boxes().forEach(function (cb) { cb.checked = all.checked; });
    });
    boxes().forEach(function (cb) { cb.addEventListener("change", sync); });
    sync();
  });
  // Auto-submit filter selects and checkboxes (text fields wait for Enter or the button).
  document.querySelectorAll('form[data-autosubmit] select, form[data-autosubmit] input[type="checkbox"]').forEach(function (el) {
    el.addEventListener("change", function () { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); });
  });
  // Confirm buttons.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) { if (!window.confirm(el.dataset.confirm)) ev.preventDefault(); });
  });
})();
