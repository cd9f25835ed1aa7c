// The cluster map: local outlines always, OSM tiles when online, cooperatives from the data
// endpoint (single points when few enough, otherwise one ring per kecamatan/village showing the
// cluster mix). Data comes from data-* attributes (CSP: no inline script).
(function () {
  "use strict";
  var el = document.getElementById("cluster-map");
  if (!el || !window.L) return;
  var ds = el.dataset;
  var clusters = JSON.parse(ds.clusters || "{}");
  var statusLabels = JSON.parse(ds.statuses || "[]");
  var STATUS = ["active", "dormant", "warned", "license_revoked"];
  var statusLine = document.getElementById("map-status");
  var fmt = function (n) { return Number(n).toLocaleString(document.documentElement.lang === "en" ? "en-US" : "id-ID"); };

  var map = L.map(el, { minZoom: 8, maxZoom: 19, zoomSnap: 0.5 }).setView([-7.62, 111.0], 11);
  var tiles = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "&copy; OpenStreetMap"
  }).addTo(map);
  var noTiles = L.layerGroup();
  var regency = L.layerGroup().addTo(map);
  var kecLayer = L.layerGroup().addTo(map);
  var desaLayer = L.layerGroup().addTo(map);

  function color(cl) { return (clusters[String(cl)] || clusters["0"] || ["", "#6c757d"])[1]; }
  function clusterName(cl) { return (clusters[String(cl)] || clusters["0"] || [""])[0]; }

  // ---- marker symbols: colour = cluster, shape = status, red ring = outside its village
  function symbol(status, fill, outside) {
    var s = "";
    if (status === 0) s = '<circle cx="9" cy="9" r="6" fill="' + fill + '" stroke="#fff" stroke-width="1.5"/><circle cx="9" cy="9" r="7" fill="none" stroke="#333" stroke-width=".8"/>';
    else if (status === 1) s = '<rect x="3" y="3" width="12" height="12" fill="' + fill + '" stroke="#333" stroke-width="1.2"/>';
    else if (status === 2) s = '<path d="M9 2 L16 15 L2 15 Z" fill="' + fill + '" stroke="#b02a37" stroke-width="1.6"/>';
    else s = '<path d="M9 2 L16 9 L9 16 L2 9 Z" fill="' + fill + '" stroke="#000" stroke-width="1.2"/><path d="M6 6 L12 12 M12 6 L6 12" stroke="#000" stroke-width="1.5"/>';
    if (outside) s = '<circle cx="9" cy="9" r="8.2" fill="none" stroke="#dc3545" stroke-width="2"/>' + s;
    return L.divIcon({
      html: '<svg width="18" height="18" viewBox="0 0 18 18">' + s + "</svg>",
      className: "coop-marker", iconSize: [18, 18], iconAnchor: [9, 9], popupAnchor: [0, -8]
    });
  }

  // ---- a ring whose segments show the mix of clusters in a group
  function ring(counts, total) {
    var size = total < 10 ? 32 : total < 100 ? 38 : total < 1000 ? 46 : 54;
    var h = size / 2, r = h - 5, circ = 2 * Math.PI * r, off = 0, parts = "";
    Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; }).forEach(function (k) {
      var len = circ * counts[k] / total;
      parts += '<circle cx="' + h + '" cy="' + h + '" r="' + r + '" fill="none" stroke="' + color(k) +
        '" stroke-width="8" stroke-dasharray="' + len.toFixed(2) + " " + (circ - len).toFixed(2) +
        '" stroke-dashoffset="' + (-off).toFixed(2) + '" transform="rotate(-90 ' + h + " " + h + ')"/>';
      off += len;
    });
    var svg = '<svg width="' + size + '" height="' + size + '" viewBox="0 0 ' + size + " " + size + '">' +
      '<circle cx="' + h + '" cy="' + h + '" r="' + (r + 4) + '" fill="#fff" fill-opacity=".85"/>' + parts +
      '<text x="' + h + '" y="' + h + '" text-anchor="middle" dominant-baseline="central" font-size="' +
      (total < 1000 ? 12 : 10) + '" font-weight="bold" font-family="sans-serif">' + fmt(total) + "</text></svg>";
    return L.divIcon({ html: svg, className: "coop-ring", iconSize: [size, size] });
  }

  var group = L.markerClusterGroup({
    chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 45,
    iconCreateFunction: function (c) {
      var counts = {};
      c.getAllChildMarkers().forEach(function (m) { counts[m.options.cl] = (counts[m.options.cl] || 0) + 1; });
      return ring(counts, c.getChildCount());
    }
  });
  var areas = L.layerGroup();
  var coops = L.layerGroup([group, areas]).addTo(map);

  var base = {}; base[ds.lTiles] = tiles; base[ds.lNone] = noTiles;
  var over = {}; over[ds.lRegency] = regency; over[ds.lKecamatan] = kecLayer; over[ds.lDesa] = desaLayer; over[ds.lCoops] = coops;
  L.control.layers(base, over, { collapsed: window.innerWidth < 576 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);

  // ---- popups: fetched on demand, built as DOM (text only, never HTML from data)
  function popupFor(id, marker) {
    marker.bindPopup(ds.lLoading).openPopup();
    fetch(ds.popupUrl.replace(/0$/, String(id)), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        var box = document.createElement("div");
        var add = function (tag, text, cls) {
          var e = document.createElement(tag); e.textContent = text; if (cls) e.className = cls; box.appendChild(e); return e;
        };
        add("strong", d.name);
        add("div", d.cluster, "small");
        add("div", d.status, "small");
        add("div", d.village + ", " + d.kecamatan + " · " + d.rtrw, "small");
        if (d.outside) add("div", d.outside, "small text-danger");
        var links = document.createElement("div"); links.className = "mt-1";
        var a1 = document.createElement("a"); a1.href = d.url; a1.textContent = d.labels.open; links.appendChild(a1);
        if (d.gmaps) {
          links.appendChild(document.createTextNode(" · "));
          var a2 = document.createElement("a"); a2.href = d.gmaps; a2.target = "_blank"; a2.rel = "noopener";
          a2.textContent = d.labels.gmaps; links.appendChild(a2);
        }
        box.appendChild(links);
        marker.setPopupContent(box);
      })
      .catch(function () { marker.setPopupContent(ds.lError); });
  }

  // ---- data
  var complete = false;  // the last answer held every point of the filter: no refetch on move
  var seq = 0, timer = null;
  function setMarkers(n) {
    var m = document.getElementById("map-markers");
    if (m) m.dataset.markers = String(n);
  }
  function load() {
    if (complete) return;
    var b = map.getBounds();
    var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
    var url = ds.dataUrl + "?" + (ds.query ? ds.query + "&" : "") + "z=" + Math.round(map.getZoom()) + "&bbox=" + bbox;
    var mine = ++seq;
    statusLine.textContent = ds.lLoading;
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (d) { if (mine === seq) draw(d); })
      .catch(function () { statusLine.textContent = ds.lError; });
  }
  function draw(d) {
    group.clearLayers(); areas.clearLayers();
    var count = document.getElementById("map-count");
    if (count) { count.dataset.count = String(d.total); count.textContent = fmt(d.total); }
    if (d.mode === "points") {
      complete = !d.clipped;
      var markers = d.p.map(function (p) {
        var m = L.marker([p[1], p[2]], { icon: symbol(p[4], color(p[3]), p[5] === 1), cl: p[3], title: clusterName(p[3]) + " · " + (statusLabels[p[4]] || "") });
        m.on("click", function () { popupFor(p[0], m); });
        return m;
      });
      group.addLayers(markers);
      setMarkers(markers.length);
      el.dataset.mode = "points";
      statusLine.textContent = "";
    } else {
      complete = false;
      var shown = 0;
      d.a.forEach(function (a) {
        shown += a.n;
        var m = L.marker([a.lat, a.lng], { icon: ring(a.m, a.n) });
        m.bindTooltip(a.name + ": " + fmt(a.n));
        m.on("click", function () { map.setView([a.lat, a.lng], Math.min(map.getZoom() + 2, 16)); });
        areas.addLayer(m);
      });
      setMarkers(shown);
      el.dataset.mode = d.mode;
      statusLine.textContent = ds.lZoom;
    }
    el.dataset.loaded = String(Number(el.dataset.loaded || 0) + 1);
  }
  map.on("moveend", function () { clearTimeout(timer); timer = setTimeout(load, 200); });

  // ---- outlines from the local GeoJSON (work without internet)
  function outline(url, layer, style, focus) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (gj) {
      var focused = null;
      L.geoJSON(gj, {
        style: function (f) { return focus && f.properties.kode === focus ? Object.assign({}, style, { weight: 3, color: "#0d6efd" }) : style; },
        interactive: false,
        onEachFeature: function (f, l) { if (focus && f.properties.kode === focus) focused = l; }
      }).addTo(layer);
      return focused;
    });
  }
  var reg = outline(ds.geoKabupaten, regency, { color: "#198754", weight: 3, fill: false });
  var kec = outline(ds.geoKecamatan, kecLayer, { color: "#444", weight: 1.5, fill: false }, ds.focusKecamatan);
  var des = outline(ds.geoDesa, desaLayer, { color: "#888", weight: 0.7, dashArray: "3", fill: false }, ds.focusDesa);
  Promise.all([reg, kec, des]).then(function (res) {
    var target = res[2] || res[1];
    if (target) map.fitBounds(target.getBounds());
    else if (regency.getLayers().length) map.fitBounds(regency.getLayers()[0].getBounds());
    load();
  }).catch(load);
})();
