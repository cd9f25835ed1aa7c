// Audit form: server-side draft autosave and "use my location". The form works without it.
(function () {
  "use strict";
  var form = document.getElementById("audit-form");
  if (!form) return;
  var statusEl = document.getElementById("autosave-status");
  var url = form.dataset.autosaveUrl;
  var tokenEl = form.querySelector("input[name=csrf_token]");
  var dirty = {};
  var timer = null;
  var inFlight = false;
  var locked = false;
  var DELAY = 2000;

  function say(text) { if (statusEl) statusEl.textContent = text; }

  function fieldsPayload(names) {
    var data = new FormData();
    names.forEach(function (name) {
      var els = form.elements[name];
      if (!els) return;
      var el = els.length && !els.tagName ? els[0] : els;
      if (el.type === "file") return;
      if (el.type === "checkbox") {
        data.append(name + "__present", "1");
        if (el.checked) data.append(name, el.value || "y");
      } else {
        data.append(name, el.value);
      }
    });
    return data;
  }

  function markErrors(errors) {
    form.querySelectorAll(".autosave-error").forEach(function (n) { n.remove(); });
    form.querySelectorAll(".is-invalid[data-autosave-invalid]").forEach(function (n) {
      n.classList.remove("is-invalid");
      n.removeAttribute("data-autosave-invalid");
    });
    Object.keys(errors || {}).forEach(function (name) {
      var el = form.elements[name];
      if (!el || !el.parentNode) return;
      el.classList.add("is-invalid");
      el.setAttribute("data-autosave-invalid", "1");
      var div = document.createElement("div");
      div.className = "invalid-feedback d-block autosave-error";
      div.textContent = errors[name];
      el.parentNode.appendChild(div);
    });
  }

  function flush() {
    timer = null;
    if (locked || inFlight) return;
    var names = Object.keys(dirty);
    if (!names.length) return;
    dirty = {};
    inFlight = true;
    say(form.dataset.msgSaving);
    fetch(url, {
      method: "POST",
      body: fieldsPayload(names),
      credentials: "same-origin",
      headers: { "X-CSRFToken": tokenEl ? tokenEl.value : "", "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (body) {
        return { status: resp.status, body: body };
      });
    }).then(function (r) {
      inFlight = false;
      if (r.status === 409) { locked = true; say(form.dataset.msgLocked); return; }
      if (r.status >= 400 && r.status < 500 && r.body.message) {
        // Refused, not lost: say why and wait for the next change instead of retrying.
        names.forEach(function (n) { dirty[n] = true; });
        say(r.body.message);
        return;
      }
      if (r.status !== 200) { names.forEach(function (n) { dirty[n] = true; }); say(form.dataset.msgOffline); schedule(10000); return; }
      var errs = r.body.errors || {};
      markErrors(errs);
      var when = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
      say(Object.keys(errs).length ? form.dataset.msgError + " (" + when + ")" : form.dataset.msgSaved + " " + when);
      if (Object.keys(dirty).length) schedule(DELAY);
    }).catch(function () {
      inFlight = false;
      names.forEach(function (n) { dirty[n] = true; });
      say(form.dataset.msgOffline);
      schedule(10000);
    });
  }

  function schedule(ms) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, ms);
  }

  function touched(ev) {
    var el = ev.target;
    if (!el.name || el.type === "file" || el.name === "csrf_token" || el.name.slice(-9) === "__present") return;
    dirty[el.name] = true;
    schedule(ev.type === "change" ? 300 : DELAY);
  }
  form.addEventListener("input", touched);
  form.addEventListener("change", touched);
  window.addEventListener("online", function () { schedule(100); });
  document.addEventListener("visibilitychange", function () { if (document.hidden) flush(); });
  window.addEventListener("pagehide", function () {
    var names = Object.keys(dirty);
    if (!names.length || !navigator.sendBeacon) return;
    var data = fieldsPayload(names);
    if (tokenEl) data.append("csrf_token", tokenEl.value);
    navigator.sendBeacon(url, data);
  });
  // Submitting the form saves everything itself: stop autosaving.
  form.addEventListener("submit", function () { if (timer) clearTimeout(timer); locked = true; });

  // "Use my location": fills latitude/longitude from the phone's GPS.
  var btn = document.getElementById("use-location");
  var locStatus = document.getElementById("location-status");
  if (btn && navigator.geolocation) {
    btn.classList.remove("d-none");
    btn.addEventListener("click", function () {
      locStatus.textContent = btn.dataset.msgWait;
      navigator.geolocation.getCurrentPosition(function (pos) {
        var lat = form.elements.lat, lng = form.elements.lng;
        lat.value = pos.coords.latitude.toFixed(6);
        lng.value = pos.coords.longitude.toFixed(6);
        locStatus.textContent = btn.dataset.msgDone.replace("__M__", Math.round(pos.coords.accuracy));
        dirty.lat = true; dirty.lng = true;
        schedule(100);
      }, function () {
        locStatus.textContent = btn.dataset.msgDenied;
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    });
  }
})();
