// The board: polls /api/runs and the ticked runs' chart, shows them without reloading the page.
// The chart is drawn by the server with matplotlib (/api/chart: the report's figure of runs compared) and
// shown as a data: picture, in which no script runs; bench/board_charts.py measures its cost per poll.
"use strict";
(function () {
  // matplotlib's colours C0..C9: the server draws the ticked runs in them, in the order they are ticked.
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  var params = new URLSearchParams(location.search);
  var POLL = Math.max(200, parseInt(params.get("poll") || "2000", 10) || 2000);
  var selected = {};   // path -> true when ticked, in the order of ticking
  var seen = {};       // paths listed before: a run first seen while training is ticked once, by itself
  var first = true;

  function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(2) + "%"; }
  function colorOf(path) { return PALETTE[Object.keys(selected).indexOf(path) % PALETTE.length]; }
  function q(path) { return encodeURIComponent(path); }
  // A run's state in the page's language (the state itself stays the data attribute's and the class's).
  function stateName(state) {
    return {running: _("running"), finished: _("finished"), stopped: _("stopped"), diverged: _("diverged"),
            unreadable: _("unreadable")}[state] || state;
  }
  function getJSON(url) {
    return fetch(url, {cache: "no-store"}).then(function (r) {
      return r.json().then(function (body) { if (!r.ok) throw new Error(body.error || r.statusText); return body; });
    });
  }
  function cell(row, text, cls) { var td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
  function link(td, href, text) { var a = document.createElement("a"); a.href = href; a.textContent = text; td.appendChild(a); td.appendChild(document.createTextNode(" ")); }

  function renderList(data) {
    document.getElementById("root").textContent = data.root;
    var body = document.querySelector("#runs tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    document.getElementById("empty").hidden = data.entries.length > 0;
    var listed = {};
    data.entries.forEach(function (e) { if (e.state !== "unreadable") listed[e.kind === "run" ? e.path : e.final] = true; });
    Object.keys(selected).forEach(function (path) { if (!listed[path]) delete selected[path]; });  // gone, or unreadable now
    data.entries.forEach(function (e) {
      var isNew = !(e.path in seen);
      seen[e.path] = true;
      if (isNew && e.kind === "run" && (e.state === "running" || (first && Object.keys(selected).length < 3))) selected[e.path] = true;
      var row = body.insertRow();
      row.dataset.path = e.path; row.dataset.state = e.state; row.className = "entry";
      var tick = row.insertCell();
      var plotted = e.state === "unreadable" ? null : (e.kind === "run" ? e.path : e.final);
      if (plotted) {
        var box = document.createElement("input");
        box.type = "checkbox"; box.checked = !!selected[plotted]; box.title = _("overlay the curves");
        box.addEventListener("change", function () { if (box.checked) selected[plotted] = true; else delete selected[plotted]; refreshChart(); });
        tick.appendChild(box);
        if (selected[plotted]) { var sw = document.createElement("span"); sw.className = "swatch"; sw.style.background = colorOf(plotted); tick.appendChild(sw); }
      }
      cell(row, e.path + (e.kind === "sweep" ? " " + fill(_("(sweep, {n} trials)"), {n: e.trials}) : ""), "l name");
      // An unreadable folder says why in its row; a state's reason is its cell's tooltip.
      var st = cell(row, e.state === "unreadable" ? fill(_("unreadable: {reason}"), {reason: e.reason}) : stateName(e.state), "state state-" + e.state);
      if (e.reason) st.title = e.reason;
      // Which accuracy: a run's test accuracy, a sweep's best validation accuracy, ...
      var acc = cell(row, pct(e.test_accuracy) + (e.accuracy_name && e.test_accuracy !== null ? " " + e.accuracy_name : ""), "accuracy");
      acc.title = fill(_("{which} accuracy"), {which: e.accuracy_name || "test"});
      if (e.state === "unreadable") { cell(row, "", ""); cell(row, "", "l"); cell(row, "", "l"); return; }
      cell(row, e.kind === "run" ? (e.iterations || 0) + (e.max_iterations ? " / " + e.max_iterations : "") : "", "iterations");
      cell(row, e.kind === "run" ? (e.description || "") : "", "l");
      var pages = cell(row, "", "l");
      link(pages, "/report?path=" + q(e.path), _("report"));
      if (e.kind === "run" && e.state === "finished" && e.has_model) link(pages, "/draw?path=" + q(e.path), _("draw a digit"));
      if (e.has_landscape) link(pages, "/files/" + e.path.split("/").map(encodeURIComponent).join("/") + "/landscape.png", _("loss landscape"));
    });
    first = false;
  }

  // The ticked runs' chart, swapped in once it has arrived whole (the old one stays until then).
  function refreshChart() {
    var paths = Object.keys(selected), img = document.getElementById("curves");
    if (!paths.length) { img.hidden = true; return Promise.resolve(); }
    var url = "/api/chart?" + paths.map(function (p) { return "path=" + q(p); }).join("&");
    return fetch(url, {cache: "no-store"}).then(function (r) {
      if (!r.ok) return r.json().then(function (body) { throw new Error(body.error || r.statusText); });
      return r.text();
    }).then(function (svg) {
      img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
      img.hidden = false;
    });
  }

  function tick() {
    getJSON("/api/runs").then(function (data) {
      renderList(data);
      document.getElementById("status").textContent = fill(_("updated {time}"), {time: new Date().toLocaleTimeString()});
      return refreshChart();
    }).catch(function (err) {
      document.getElementById("status").textContent = fill(_("cannot reach the board: {error}"), {error: err.message});
    }).then(function () { setTimeout(tick, POLL); });
  }
  tick();
})();
