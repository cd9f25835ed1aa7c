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
  // A "select all" checkbox ticks every enabled checkbox named by its data-check-all.
  document.querySelectorAll("[data-check-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('input[name="' + all.dataset.checkAll + '"]').forEach(function (cb) {
        if (!cb.disabled) { cb.checked = all.checked; }
      });
    });
  });
  // Auto-submit filter selects.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.requestSubmit ? sel.form.requestSubmit() : sel.form.submit(); });
  });
  // Confirm buttons.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) { if (!window.confirm(el.dataset.confirm)) ev.preventDefault(); });
  });
})();
