/* carecover meeting room: one page, the server holds the state (several tabs stay consistent). */
(function () {
  "use strict";
  var CFG = JSON.parse(document.getElementById("config").textContent);
  var L_ = CFG.lang === "en" ? 1 : 0;
  var T = {
    title: ["carecover 会议室", "carecover meeting room"],
    undo: ["↶ 撤销", "↶ Undo"], redo: ["↷ 重做", "↷ Redo"], undo_tip: ["撤销 (Ctrl+Z)", "Undo (Ctrl+Z)"], redo_tip: ["重做 (Ctrl+Y)", "Redo (Ctrl+Y)"], reset: ["现状", "Today"],
    plan: ["规划方案 ★", "The plan ★"], save: ["保存情景", "Save scenario"],
    compare: ["情景对比", "Compare"], print: ["打印讲义", "Print handout"], tiles: ["在线底图", "Online basemap"],
    name_ph: ["情景名称", "scenario name"], saved: ["已保存：", "Saved:"],
    elderly: ["老年人覆盖", "Elderly covered"], total: ["总人口覆盖", "Population covered"],
    now: ["现状", "Today"], with_: ["调整后", "With changes"], gained: ["新增覆盖老年人", "Elderly newly covered"],
    lost: ["失去覆盖老年人", "Elderly no longer covered"], people: [" 人", ""],
    places: ["每千老人名额", "Places per 1,000 elderly"], overloaded: ["超载设施", "Overloaded facilities"],
    maxload: ["最大负荷", "Largest load"], below: ["低于标准的老年人", "Elderly below standard"],
    gini: ["基尼系数", "Gini"],
    gini_note: ["基尼系数衡量每千老人名额在老年人之间分布的不均；新增站点只提高附近居民的名额时，基尼系数可能上升。",
      "The Gini measures how unequally places per 1,000 are spread among the elderly; a new site that raises places only for its neighbours can raise it."],
    changes: ["调整的站点", "Changed sites"], nochange: ["尚未调整。点击地图任意位置新增站点；点击 ★、候选点或现有设施开关；拖动站点移动。",
      "No changes yet. Click anywhere on the map to add a site; click a ★, a candidate or a facility to switch it; drag a site to move it."],
    on: ["新增", "on"], off: ["撤销", "off"], scen: ["情景", "Scenario"], n_on: ["新增站点", "sites on"],
    n_off: ["撤销站点", "sites off"], dlt: ["变化", "Δ"], pp: [" 百分点", " pp"],
    within: ["分钟", "min"], walk: ["步行", "walk"], drive: ["驾车", "drive"],
    legend: ['<b style="color:#5b8fd0">●</b> 现状已覆盖　<b style="color:#9aa3ad">●</b> 未覆盖　<b style="color:#17a34a">●</b> 新增覆盖　<b style="color:#d62828">●</b> 失去覆盖<br><b style="color:#1f5fa8">■</b> 现有设施　<b style="color:#c77700">★</b> 规划站点　<b style="color:#8a6d3b">○</b> 候选点　<b style="color:#17803a">✚</b> 新增点',
      '<b style="color:#5b8fd0">●</b> covered today  <b style="color:#9aa3ad">●</b> not covered  <b style="color:#17a34a">●</b> newly covered  <b style="color:#d62828">●</b> no longer covered<br><b style="color:#1f5fa8">■</b> existing  <b style="color:#c77700">★</b> planned  <b style="color:#8a6d3b">○</b> candidate  <b style="color:#17803a">✚</b> new site'],
    coords: ["坐标", "coordinates"], busy: ["计算中…", "computing…"], saved_ok: ["已保存", "Saved"],
    site: ["站点", "site"], change: ["调整", "change"], covered: ["覆盖", "covered"],
    handout: ["carecover 选址讲义", "carecover site handout"], remove: ["删除", "remove"]
  };
  function t(k) { return T[k][L_]; }
  function $(id) { return document.getElementById(id); }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function fmtN(v) { return v == null ? "—" : Math.round(v).toLocaleString("en-US"); }
  function fmtS(v) { return v == null ? "—" : (100 * v).toFixed(1) + "%"; }
  function fmtSigned(v) { var r = Math.round(v); return (r > 0 ? "+" : r < 0 ? "−" : "±") + Math.abs(r).toLocaleString("en-US"); }
  function fmtF(v, d) { return v == null ? "—" : Number(v).toFixed(d); }

  var M = { tier: null, layers: {}, view: null, version: -1, timings: [], pending: 0, drawn: {}, changed: {}, candOn: null, candById: {} };
  window.meet = M;

  function api(path, body) {
    var opts = { headers: { "X-Carecover-Token": CFG.token }, cache: "no-store" };
    if (body !== undefined) { opts.method = "POST"; opts.body = typeof body === "string" ? body : JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    return fetch(path, opts).then(function (r) {
      M.serverMs = Number(r.headers.get("X-Elapsed-Ms"));
      return r.json().then(function (j) { if (!r.ok) { throw new Error(j.error || ("HTTP " + r.status)); } return j; });
    });
  }
  function tierPath(p) { return "/api/tier/" + encodeURIComponent(M.tier) + "/" + p; }
  function message(text, ok) {
    var m = $("message"); m.hidden = !text; m.textContent = text || ""; m.className = ok ? "ok" : "";
  }

  var map = L.map("map", { preferCanvas: true, zoomControl: true, attributionControl: true, doubleClickZoom: false, minZoom: 3, maxZoom: 19, zoomSnap: 0.25 });
  M.map = map;
  var canvas = L.canvas({ padding: 0.3 });
  var tiles = L.tileLayer("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", { maxZoom: 19, attribution: "© OpenStreetMap" });
  var gDemand = L.layerGroup().addTo(map), gChange = L.layerGroup().addTo(map), gCand = L.layerGroup().addTo(map), gSites = L.layerGroup().addTo(map);

  // ---------------------------------------------------------------- actions
  function act(body) {
    var t0 = performance.now();
    M.pending += 1;
    message(t("busy"), true);
    return api(tierPath("action"), body).then(function (v) {
      message("");
      render(v);
      M.timings.push({ action: body.action, ms: performance.now() - t0, ok: true, server_ms: M.serverMs });
    }).catch(function (e) {
      message(e.message);
      M.timings.push({ action: body.action, ms: performance.now() - t0, ok: false });
    }).then(function () { M.pending -= 1; });
  }
  M.act = act;
  map.on("click", function (e) { act({ action: "add", lon: e.latlng.lng, lat: e.latlng.lat }); });

  // ---------------------------------------------------------------- fixed layers of a tier
  function icon(cls, glyph) { return L.divIcon({ className: "", html: '<div class="site-icon ' + cls + '">' + glyph + "</div>", iconSize: [20, 20], iconAnchor: [10, 10] }); }
  function siteMarker(lat, lon, cls, glyph, title, kind, id) {
    var m = L.marker([lat, lon], { icon: icon(cls, glyph), draggable: true, title: title, keyboard: false, riseOnHover: true });
    m.on("click", function (e) { L.DomEvent.stopPropagation(e); act({ action: "toggle", kind: kind, id: id }); });
    // the marker goes back to where it was: the server's answer places the moved site
    m.on("dragend", function () { var p = m.getLatLng(); m.setLatLng([lat, lon]); act({ action: "move", kind: kind, id: id, lon: p.lng, lat: p.lat }); });
    m.bindTooltip(esc(title), { direction: "top", offset: [0, -8] });
    m.meet = { kind: kind, id: id };
    return m;
  }
  function loadTier(key) {
    M.tier = key;
    Array.prototype.forEach.call($("tiers").children, function (b) { b.className = b.dataset.key === key ? "on" : ""; });
    message(t("busy"), true);
    return api(tierPath("layers")).then(function (ly) {
      message("");
      M.layers = ly;
      $("tierinfo").textContent = (L_ ? ly.name_en : ly.name_zh) + " · " + Math.round(ly.threshold_min * 10) / 10 + " " + t("within") + " " +
        (T[ly.mode] ? t(ly.mode) : (ly.mode || "")) + " · " + ly.crs;
      gSites.clearLayers(); gCand.clearLayers(); gChange.clearLayers(); M.drawn = {}; M.changed = {}; M.candOn = null;
      M.candById = {}; ly.candidates.forEach(function (c) { M.candById[c.id] = c; });
      $("plan").hidden = !ly.candidates.some(function (c) { return c.rank != null; });
      gDemand.clearLayers();
      var n = ly.demand.lon.length, step = Math.max(1, Math.ceil(n / 40000)), cov = {};
      ly.covered_now.forEach(function (i) { cov[i] = 1; });
      for (var i = 0; i < n; i += step) {
        if (ly.demand.lon[i] == null) continue;
        L.circleMarker([ly.demand.lat[i], ly.demand.lon[i]], { renderer: canvas, radius: 2.5, stroke: false, fillColor: cov[i] ? "#5b8fd0" : "#9aa3ad", fillOpacity: 0.6, interactive: false }).addTo(gDemand);
      }
      var b = ly.bbox;
      map.invalidateSize();
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [12, 12] });
      M.version = -1;
      return refresh();
    }).catch(function (e) { message(e.message); });
  }
  // markers are kept between renders and replaced only where a site changed (thousands of
  // candidates at city scale: a click redraws what it touched)
  function placeMarker(key, sig, make, group) {
    var old = M.drawn[key];
    if (old && old.sig === sig) return;
    if (old) old.group.removeLayer(old.m);
    var m = make(); group.addLayer(m);
    M.drawn[key] = { sig: sig, m: m, group: group };
  }
  function candMarker(c) {
    var cm = L.circleMarker([c.lat, c.lon], { renderer: canvas, radius: 3, color: "#8a6d3b", weight: 1, opacity: 0.7, fillColor: "#fff", fillOpacity: 0.6 });
    cm.on("click", function (e) { L.DomEvent.stopPropagation(e); act({ action: "toggle", kind: "candidate", id: c.id }); });
    cm.bindTooltip(esc(c.name));
    return cm;
  }
  function drawCandidate(c, on, names) {
    if (c.rank != null || on[c.id]) {
      var glyph = c.rank != null ? "★" : "◆", name = names[c.id] || c.name;
      var cls = (c.rank != null ? "star" : "cand") + (on[c.id] ? " on" : "");
      placeMarker("c" + c.id, cls + name, function () { return siteMarker(c.lat, c.lon, cls, glyph, name, "candidate", c.id); }, gSites);
    } else {
      placeMarker("c" + c.id, "circle", function () { return candMarker(c); }, gCand);
    }
  }
  function drawSites(v) {
    var ly = M.layers, off = {}, on = {}, names = {}, prev = M.candOn;
    v.scenario.existing_off.forEach(function (i) { off[i] = 1; });
    v.scenario.candidates_on.forEach(function (k) { on[k] = 1; });
    v.sites.forEach(function (s) { if (s.kind === "candidate") names[s.id] = s.name; });
    ly.existing.forEach(function (f) {
      if (!f.ok) return;
      var cls = "existing" + (off[f.id] ? " off" : "");
      placeMarker("e" + f.id, cls, function () { return siteMarker(f.lat, f.lon, cls, "■", f.name, "existing", f.id); }, gSites);
    });
    if (prev === null) {
      ly.candidates.forEach(function (c) { drawCandidate(c, on, names); });
    } else {  // only the candidates switched now or before can have changed
      var byId = M.candById;
      Object.keys(Object.assign({}, prev, on)).forEach(function (k) { drawCandidate(byId[k], on, names); });
    }
    M.candOn = on;
    var points = {};
    v.sites.forEach(function (s) {
      if (s.kind !== "point") return;
      var title = siteName(s) + " · " + s.coords;
      points["p" + s.id] = 1;
      placeMarker("p" + s.id, title + s.lon + "," + s.lat, function () { return siteMarker(s.lat, s.lon, "point", "✚", title, "point", s.id); }, gSites);
    });
    Object.keys(M.drawn).forEach(function (k) {
      if (k.charAt(0) === "p" && !points[k]) { M.drawn[k].group.removeLayer(M.drawn[k].m); delete M.drawn[k]; }
    });
  }
  // the changed catchment: only the points whose state changed since the last answer are
  // added or removed (after many sites the newly covered points run into thousands)
  function drawChange(v) {
    var d = M.layers.demand, want = {};
    v.gained.forEach(function (i) { want[i] = "#17a34a"; });
    v.lost.forEach(function (i) { want[i] = "#d62828"; });
    Object.keys(M.changed).forEach(function (i) {
      if (want[i] !== M.changed[i].color) { gChange.removeLayer(M.changed[i].m); delete M.changed[i]; }
    });
    Object.keys(want).forEach(function (i) {
      if (M.changed[i] || d.lon[i] == null) return;
      var m = L.circleMarker([d.lat[i], d.lon[i]], { renderer: canvas, radius: 3.5, stroke: false, fillColor: want[i], fillOpacity: 0.9, interactive: false });
      gChange.addLayer(m);
      M.changed[i] = { m: m, color: want[i] };
    });
  }

  // ---------------------------------------------------------------- panel
  function figRow(label, pop, v) {
    var a = v.now.covered[pop], b = v.with.covered[pop], tot = v.with.total[pop];
    var d = tot > 0 ? 100 * (b - a) / tot : 0;
    return "<tr><td>" + label + "</td><td>" + fmtS(a / tot) + "<br><span class=dim>" + fmtN(a) + t("people") + "</span></td>" +
      '<td class="big" data-fig="' + pop + '">' + fmtS(b / tot) + '<br><span class=dim data-count="' + pop + '">' + fmtN(b) + t("people") + "</span></td>" +
      '<td class="' + (b > a ? "gain" : b < a ? "loss" : "") + '">' + (d >= 0 ? "+" : "−") + Math.abs(d).toFixed(1) + t("pp") + "</td></tr>";
  }
  function accessRows(v) {
    var a = v.now.access, b = v.with.access;
    if (!a || !b) return "";
    var rows = [["places", "places_per_1000", 1], ["gini", "gini", 3], ["overloaded", "overloaded", 0], ["maxload", "max_load", 2]];
    if (M.layers.standard != null) rows.splice(1, 0, ["below", "share_below_standard", -1]);
    return rows.map(function (r) {
      var f = r[2] < 0 ? fmtS : function (x) { return fmtF(x, r[2]); };
      var d = (a[r[1]] == null || b[r[1]] == null) ? "" : (r[2] < 0 ? ((b[r[1]] - a[r[1]]) * 100).toFixed(1) + t("pp") : fmtF(b[r[1]] - a[r[1]], Math.max(r[2], 0)));
      if (d && d.charAt(0) !== "-") d = "+" + d;
      return "<tr><td>" + t(r[0]) + "</td><td>" + f(a[r[1]]) + '</td><td class="big" data-access="' + r[1] + '">' + f(b[r[1]]) + "</td><td>" + d + "</td></tr>";
    }).join("");
  }
  function renderFigures(v) {
    $("figures").innerHTML = "<table><tr><th></th><th>" + t("now") + "</th><th>" + t("with_") + "</th><th>" + t("dlt") + "</th></tr>" +
      figRow(t("elderly"), "elderly", v) + figRow(t("total"), "total", v) + accessRows(v) + "</table>" +
      (v.now.access ? '<p class="dim">' + t("gini_note") + "</p>" : "") +
      '<div><span class="gain" id="gained">' + t("gained") + " " + fmtSigned(v.with.gained_elderly) + t("people") + "</span>　" +
      '<span class="loss" id="lost">' + t("lost") + " " + fmtSigned(-v.with.lost_elderly) + t("people") + "</span></div>";
  }
  function siteName(s) { return s.kind === "point" ? ((L_ ? "New site " : "新增点 ") + (s.street || "")).trim() : s.name; }
  M.siteName = siteName;
  function renderChanges(v) {
    if (!v.sites.length) { $("changes").innerHTML = '<p class="dim">' + t("nochange") + "</p>"; return; }
    $("changes").innerHTML = "<b>" + t("changes") + "</b><ul>" + v.sites.map(function (s) {
      return "<li>" + (s.change === "on" ? '<span class="gain">' + t("on") + "</span> " : '<span class="loss">' + t("off") + "</span> ") +
        esc(siteName(s)) + ' <span class="dim">' + esc(s.coords) + "</span>" +
        ' <button class="x" title="' + t("remove") + '" data-kind="' + s.kind + '" data-id="' + s.id + '">✕</button></li>';
    }).join("") + "</ul>";
    Array.prototype.forEach.call($("changes").querySelectorAll("button.x"), function (b) {
      b.onclick = function () { act({ action: "toggle", kind: b.dataset.kind, id: Number(b.dataset.id) }); };
    });
  }
  function renderSaved(v) {
    $("saved").innerHTML = v.saved.length ? '<span class="dim">' + t("saved") + "</span>" + v.saved.map(function (n) {
      return '<button type="button" data-name="' + esc(n) + '">' + esc(n) + "</button>";
    }).join("") : "";
    Array.prototype.forEach.call($("saved").querySelectorAll("button"), function (b) {
      b.onclick = function () { act({ action: "load", name: b.dataset.name }); };
    });
  }
  function render(v) {
    M.view = v; M.version = v.version;
    renderFigures(v); renderChanges(v); renderSaved(v); drawSites(v); drawChange(v);
    $("undo").disabled = !v.can_undo; $("redo").disabled = !v.can_redo;
    if (!$("compare").hidden) showCompare();
  }
  function refresh() { return api(tierPath("view")).then(render).catch(function (e) { message(e.message); }); }

  // ---------------------------------------------------------------- compare, handout
  function compareTable(rows, base) {
    var acc = rows.length && rows[0].access;
    var head = "<tr><th>" + t("scen") + "</th><th>" + t("elderly") + "</th><th>" + t("dlt") + "</th><th>" + t("total") + "</th><th>" +
      t("n_on") + "</th><th>" + t("n_off") + "</th>" + (acc ? "<th>" + t("places") + "</th>" : "") + "</tr>";
    if (base == null) base = rows[0].covered.elderly;
    return "<table>" + head + rows.map(function (r) {
      return '<tr data-key="' + r.key + '"><td>' + esc(r.label) + "</td><td>" + fmtS(r.share.elderly) + "<br><span class=dim>" + fmtN(r.covered.elderly) + "</span></td><td>" +
        fmtSigned(r.covered.elderly - base) + "</td><td>" + fmtS(r.share.total) + "<br><span class=dim>" + fmtN(r.covered.total) + "</span></td><td>" +
        r.n_on + "</td><td>" + r.n_off + "</td>" + (acc ? "<td>" + fmtF(r.access && r.access.places_per_1000, 1) + "</td>" : "") + "</tr>";
    }).join("") + "</table>";
  }
  function showCompare() {
    return api(tierPath("compare")).then(function (rows) { $("compare").hidden = false; $("compare").innerHTML = compareTable(rows); })
      .catch(function (e) { message(e.message); });
  }
  function picture(page, existing) {
    var ly = M.layers, b = ly.bbox, kx = Math.cos((b[1] + b[3]) * Math.PI / 360);
    var gw = Math.max((b[2] - b[0]) * kx, 1e-6), gh = Math.max(b[3] - b[1], 1e-6), r = gh / gw, W, H, pad = 30;
    if (r <= 0.75) { W = 1400; H = Math.round(1400 * Math.max(r, 0.45)); } else { H = 1050; W = Math.max(500, Math.round(1050 / r)); }
    var c = document.createElement("canvas"); c.width = W; c.height = H;
    var g = c.getContext("2d"), s = Math.min((W - 2 * pad) / gw, (H - 2 * pad) / gh);
    var ox = (W - gw * s) / 2, oy = (H - gh * s) / 2;
    function xy(lon, lat) { return [ox + (lon - b[0]) * kx * s, H - oy - (lat - b[1]) * s]; }
    g.fillStyle = "#fff"; g.fillRect(0, 0, W, H);
    var bits = atob(page.covered_bits), d = ly.demand;
    for (var i = 0; i < d.lon.length; i++) {
      if (d.lon[i] == null) continue;
      var cov = (bits.charCodeAt(i >> 3) >> (i & 7)) & 1, p = xy(d.lon[i], d.lat[i]);
      g.fillStyle = cov ? "#4a90d9" : "#c8cdd3"; g.beginPath(); g.arc(p[0], p[1], 4, 0, 6.283); g.fill();
    }
    g.fillStyle = "#1f3f6a";
    existing.forEach(function (e) { if (e[0] == null) return; var p = xy(e[0], e[1]); g.fillRect(p[0] - 8, p[1] - 8, 16, 16); });
    g.font = "bold 34px sans-serif"; g.textAlign = "center"; g.textBaseline = "middle";
    page.sites.forEach(function (st, j) {
      var p = xy(st.lon, st.lat);
      g.fillStyle = st.change === "on" ? "#17803a" : "#b3261e";
      g.fillText(st.change === "on" ? "★" : "✕", p[0], p[1]);
      g.font = "bold 22px sans-serif"; g.fillText(String(j + 1), p[0] + 20, p[1] - 18); g.font = "bold 34px sans-serif";
    });
    return c.toDataURL("image/png");
  }
  function buildHandout() {
    return api(tierPath("handout")).then(function (h) {
      var ly = M.layers, title = (L_ ? ly.name_en : ly.name_zh);
      $("handout").innerHTML = h.pages.map(function (pg) {
        var sites = pg.sites.map(function (s, j) {
          return "<tr><td>" + (j + 1) + "</td><td>" + (s.change === "on" ? t("on") : t("off")) + "</td><td>" + esc(siteName(s)) + "</td><td>" + esc(s.coords) + "</td></tr>";
        }).join("");
        return '<section class="hpage"><h2>' + t("handout") + " · " + esc(title) + " · " + esc(pg.label) + "</h2>" +
          '<img alt="map" src="' + picture(pg, h.existing) + '">' + compareTable([pg], h.base_elderly) +
          "<table class=\"sites\"><tr><th>#</th><th>" + t("change") + "</th><th>" + t("site") + "</th><th>" + t("coords") + " (" + esc(ly.crs) + ")</th></tr>" + sites + "</table></section>";
      }).join("");
      return h;
    });
  }
  M.buildHandout = buildHandout;

  // ---------------------------------------------------------------- page
  document.title = t("title");
  $("title").textContent = t("title");
  ["undo", "redo", "reset", "plan"].forEach(function (k) { $(k).textContent = t(k); });
  $("undo").title = t("undo_tip"); $("redo").title = t("redo_tip");
  $("savebtn").textContent = t("save"); $("comparebtn").textContent = t("compare"); $("printbtn").textContent = t("print");
  $("tileslabel").textContent = t("tiles"); $("sname").placeholder = t("name_ph"); $("legend").innerHTML = t("legend");
  $("undo").onclick = function () { act({ action: "undo" }); };
  $("redo").onclick = function () { act({ action: "redo" }); };
  $("reset").onclick = function () { act({ action: "reset" }); };
  $("plan").onclick = function () { act({ action: "plan" }); };
  $("savebtn").onclick = function () {
    act({ action: "save", name: $("sname").value }).then(function () { if (!$("message").textContent) message(t("saved_ok") + "：" + $("sname").value, true); });
  };
  document.addEventListener("keydown", function (e) {
    if (!(e.ctrlKey || e.metaKey) || e.target.tagName === "INPUT") return;
    var k = e.key.toLowerCase();
    if (k === "z" && !e.shiftKey && !$("undo").disabled) { e.preventDefault(); act({ action: "undo" }); }
    if ((k === "y" || (k === "z" && e.shiftKey)) && !$("redo").disabled) { e.preventDefault(); act({ action: "redo" }); }
  });
  $("comparebtn").onclick = function () { if ($("compare").hidden) showCompare(); else $("compare").hidden = true; };
  $("printbtn").onclick = function () { buildHandout().then(function () { window.print(); }); };
  $("tiles").checked = !!CFG.tiles;
  function syncTiles() { if ($("tiles").checked) tiles.addTo(map); else map.removeLayer(tiles); }
  $("tiles").onchange = syncTiles; syncTiles();
  CFG.tiers.forEach(function (tr) {
    var b = document.createElement("button"); b.type = "button"; b.dataset.key = tr.key;
    b.textContent = L_ ? tr.name_en : tr.name_zh; b.onclick = function () { loadTier(tr.key); };
    $("tiers").appendChild(b);
  });
  // other tabs may change the scenario: follow the server's version
  setInterval(function () {
    if (M.pending || !M.tier) return;
    api("/api/version").then(function (r) { if (r.version !== M.version && !M.pending) refresh(); }).catch(function () {});
  }, 1500);
  var first = CFG.tiers.filter(function (tr) { return tr.key === CFG.tier; })[0] || CFG.tiers[0];
  M.ready = loadTier(first.key).then(function () {
    // carecover meet --pdf: the handout is built at once and printed by headless Chromium
    if (CFG.handout) return buildHandout().then(function () { document.body.dataset.handout = "ready"; });
  });
})();
