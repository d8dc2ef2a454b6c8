// Lesson 4.3: asks the board for the slopes and errors of f at x with the step h, and draws them.
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var METHODS = ["forward", "central", "complex"];
  var NAMES = {forward: _("forward difference"), central: _("central difference"), complex: _("complex step")};
  var FLOOR = 1e-18;  // an error of exactly 0 is drawn here (a log axis has no 0)

  function hFromSlider() { return Number(Math.pow(10, +$("hslider").value).toPrecision(2)); }
  function query() {
    var q = new URLSearchParams({f: $("fn").value, x: $("x").value.trim(), h: $("h").value.trim()});
    if ($("fn").value === "formula") q.set("formula", $("formula").value);
    return "/api/lessons/diff?" + q.toString();
  }

  function drawSecant(d) {
    var p = d.plot, ys = [];
    p.f.forEach(function (pt) { if (pt[1] !== null) ys.push(pt[1]); });
    var lo = Math.min.apply(null, ys), hi = Math.max.apply(null, ys), pad = (hi - lo) * 0.08 || 1;
    var ax = new Axes($("secant"), {x: [p.f[0][0], p.f[p.f.length - 1][0]], y: [lo - pad, hi + pad],
                                    title: "f(x) = " + d.function, xlabel: "x", ylabel: "f(x)"});
    ax.path(p.f, {stroke: LESSON_COLORS.f, "stroke-width": 2, "class": "f"});
    ax.path(p.tangent, {stroke: LESSON_COLORS.tangent, "class": "tangent"});
    ax.path(p.forward.line, {stroke: LESSON_COLORS.forward, "stroke-dasharray": "6 3", "class": "secant-forward"});
    ax.path(p.central.line, {stroke: LESSON_COLORS.central, "stroke-dasharray": "2 3", "class": "secant-central"});
    p.central.points.concat(p.forward.points).forEach(function (pt) { ax.dot(pt[0], pt[1], {fill: "#555", r: 3}); });
    ax.dot(p.point[0], p.point[1], {fill: LESSON_COLORS.tangent, r: 4.5});
    ax.legend([{label: fill(_("tangent, slope {slope}"), {slope: d.slope_repr}), color: LESSON_COLORS.tangent},
               {label: _("forward secant through x and x + h"), color: LESSON_COLORS.forward, dash: "6 3"},
               {label: _("central secant through x - h and x + h"), color: LESSON_COLORS.central, dash: "2 3"}]);
  }

  function drawErrors(svg, d, dtype) {
    var c = d.curves, top = 10;
    METHODS.forEach(function (m) { c[dtype][m].forEach(function (e) { if (e !== null && e > top) top = e; }); });
    // headroom: the legend and the two h labels sit above every curve (the plateau below h = 1e-16 is
    // the slope's whole size, at the top of the data).
    var ax = new Axes(svg, {x: [c.h[0], c.h[c.h.length - 1]], y: [FLOOR / 2, top * 2], xlog: true, ylog: true, headroom: 48,
                            title: fill(_("{dtype}: error of the slope against h"), {dtype: dtype}),
                            xlabel: _("step h (truncation grows to the right, rounding to the left)"),
                            ylabel: _("absolute error (0 drawn at 1e-18)")});
    ax.vline(d.at_h.h, {stroke: "#000", "stroke-dasharray": "", "class": "current-h"}, "h = " + d.at_h.h_repr, 1);
    ax.vline(d.book_h, {stroke: "#777", "class": "book-h"}, _("book's h = 1e-4"), 2);
    METHODS.forEach(function (m) {
      var pts = c.h.map(function (h, i) { var e = c[dtype][m][i]; return [h, e === null ? null : Math.max(e, FLOOR)]; });
      ax.path(pts, {stroke: LESSON_COLORS[m], "class": "error-curve", "data-method": m});
      var e = d.at_h.methods[m].error[dtype];
      if (e !== null) ax.dot(d.at_h.h, Math.max(e, FLOOR), {fill: LESSON_COLORS[m], "class": "error-at-h", "data-method": m, "data-error": e});
    });
    ax.legend(METHODS.map(function (m) { return {label: NAMES[m], color: LESSON_COLORS[m]}; }), true);
  }

  function fmtError(e) { return e === null ? "NaN" : e === 0 ? _("0 (exact)") : e.toExponential(2); }

  function fillTable(tbody, at) {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    METHODS.forEach(function (m) {
      var r = tbody.insertRow(), v = at.methods[m];
      r.dataset.method = m;
      var name = r.insertCell();
      name.textContent = {forward: _("forward"), central: _("central"), complex: _("complex step")}[m];
      name.title = {forward: "(f(x+h) - f(x)) / h", central: "(f(x+h) - f(x-h)) / 2h", complex: "Im f(x+ih) / h"}[m];
      name.className = "l";
      var value = r.insertCell(); value.textContent = v.repr; value.className = "value mono";
      r.insertCell().textContent = fmtError(v.error.float64);
      r.insertCell().textContent = fmtError(v.error.float32);
    });
  }

  function draw(d) {
    $("message").textContent = "";
    setText("slope", d.slope_repr); setText("slope-how", d.slope_how); setText("at-x", d.x_repr);
    setText("h-shown", d.at_h.h_repr);
    fillTable(document.querySelector("#values tbody"), d.at_h);
    fillTable(document.querySelector("#bad tbody"), d.book_bad_step);
    setText("notes", d.at_h.notes.join(" "));
    setText("bad-notes", d.book_bad_step.notes.join(" "));
    drawSecant(d);
    drawErrors($("err64"), d, "float64");
    drawErrors($("err32"), d, "float32");
    $("values").dataset.h = d.at_h.h_repr;
    $("values").dataset.x = d.x_repr;
  }

  var update = latestOnly(function () {
    return lessonJSON(query()).then(draw, function (err) { $("message").textContent = err.message; $("values").dataset.h = "error"; });
  });

  $("hslider").addEventListener("input", function () { $("h").value = String(hFromSlider()); update(); });
  $("h").addEventListener("change", function () {
    var h = Number($("h").value);
    if (h > 0) $("hslider").value = Math.log10(h).toFixed(1);
    update();
  });
  $("fn").addEventListener("change", function () { $("formula").hidden = $("fn").value !== "formula"; update(); });
  $("formula").addEventListener("change", update);
  $("x").addEventListener("change", update);
  $("book-h").addEventListener("click", function () { $("h").value = "0.0001"; $("hslider").value = "-4"; update(); });
  $("formula").hidden = $("fn").value !== "formula";
  update();
})();
