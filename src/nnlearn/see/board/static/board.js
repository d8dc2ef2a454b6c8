// The board: polls /api/runs and the ticked runs' curves, redraws without reloading the page.
"use strict";
(function () {
  var params = new URLSearchParams(location.search);
  var POLL = Math.max(200, parseInt(params.get("poll") || "2000", 10) || 2000);
  var selected = {};   // path -> true when ticked
  var seen = {};       // paths listed before: a run first seen while training is ticked once, by itself
  var colors = {};     // path -> colour, stable while the page lives
  var curves = {};     // path -> last /api/run answer
  var first = true;

  function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(2) + "%"; }
  function colorOf(path) {
    if (!(path in colors)) colors[path] = PALETTE[Object.keys(colors).length % PALETTE.length];
    return colors[path];
  }
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
        box.addEventListener("change", function () { if (box.checked) selected[plotted] = true; else delete selected[plotted]; refreshCurves(); });
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

  function drawCharts() {
    var loss = [], acc = [];
    Object.keys(selected).forEach(function (path) {
      var c = curves[path]; if (!c) return;
      var color = colorOf(path);
      loss.push({label: path, run: path, color: color, x: c.loss.map(function (p) { return p[0]; }), y: c.loss.map(function (p) { return p[2]; })});
      var cols = c.epoch_columns.filter(function (n) { return /acc/i.test(n); });
      var col = cols.filter(function (n) { return /valid/i.test(n); })[0] || cols.filter(function (n) { return /test/i.test(n); })[0];
      if (col) acc.push({label: path + " (" + col.replace(/_/g, " ") + ")", run: path, color: color, markers: true,
                         x: c.epochs.map(function (r) { return r.epoch; }), y: c.epochs.map(function (r) { return r[col]; })});
    });
    var top = 0;
    loss.forEach(function (s) { s.y.forEach(function (y) { if (y !== null && isFinite(y)) top = Math.max(top, y); }); });
    drawChart(document.getElementById("loss-chart"), loss, {title: _("Loss (smoothed)"), xlabel: _("iteration"), ylabel: _("loss"), ylim: [0, (top || 1) * 1.05]});
    var all = []; acc.forEach(function (s) { all = all.concat(s.y); });
    drawChart(document.getElementById("acc-chart"), acc, {title: _("Accuracy per epoch"), xlabel: _("epoch"), ylabel: _("accuracy"),
                                                          ylim: zoomedRange(all), percent: true, legend: "lower right"});
  }

  function refreshCurves() {
    var paths = Object.keys(selected);
    return Promise.all(paths.map(function (path) {
      return getJSON("/api/run?path=" + q(path)).then(function (c) { curves[path] = c; }, function () { delete selected[path]; });
    })).then(drawCharts);
  }

  function tick() {
    getJSON("/api/runs").then(function (data) {
      renderList(data);
      document.getElementById("status").textContent = fill(_("updated {time}"), {time: new Date().toLocaleTimeString()});
      return refreshCurves();
    }).catch(function (err) {
      document.getElementById("status").textContent = fill(_("cannot reach the board: {error}"), {error: err.message});
    }).then(function () { setTimeout(tick, POLL); });
  }
  tick();
})();
