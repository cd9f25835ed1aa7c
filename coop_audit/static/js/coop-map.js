// The small map on a cooperative's page: OSM tiles when online, and always the local outlines.
(function () {
  "use strict";
  var el = document.getElementById("coop-map");
  if (!el || !window.L) return;
  var map = L.map(el, { scrollWheelZoom: false }).setView([-7.6, 110.98], 11);
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "&copy; OpenStreetMap"
  }).addTo(map);
  var lat = parseFloat(el.dataset.lat), lng = parseFloat(el.dataset.lng);
  function outline(url, code, style, fit) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (gj) {
      var layer = L.geoJSON(gj, { filter: function (f) { return f.properties.kode === code; }, style: style }).addTo(map);
      if (fit && isNaN(lat)) map.fitBounds(layer.getBounds());
      return layer;
    });
  }
  outline(el.dataset.kecamatanUrl, el.dataset.kecamatan, { color: "#198754", weight: 2, fillOpacity: 0.05 }, true);
  outline(el.dataset.desaUrl, el.dataset.desa, { color: "#fd7e14", weight: 1, dashArray: "4", fillOpacity: 0.08 }, false);
  if (!isNaN(lat) && !isNaN(lng)) {
    L.circleMarker([lat, lng], { radius: 8, color: "#0d6efd", fillOpacity: 0.8 }).addTo(map);
    map.setView([lat, lng], 14);
  }
})();
