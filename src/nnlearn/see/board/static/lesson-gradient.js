// Lesson 4.4: the gradient field the board computed, and the gradient at a clicked point.
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var ax = null, field = null, scale = 1, picked = null;

  function params() {
    var q = new URLSearchParams({f: $("fn").value});
    if ($("fn").value === "formula") q.set("formula", $("formula").value);
    return q;
  }

  function drawField() {
    var b = field.box;
    ax = new Axes($("field"), {x: [b[0], b[1]], y: [b[2], b[3]], title: fill(_("−gradient of f(x0, x1) = {f}"), {f: field.function}),
                               xlabel: "x0", ylabel: "x1"});
    ax.contours(field.contours);
    // The longest arrow spans one grid spacing: the lengths compare, the board's numbers are kept.
    var longest = 0;
    field.gradients.forEach(function (g) { if (g[0] !== null && g[1] !== null) longest = Math.max(longest, Math.hypot(g[0], g[1])); });
    var spacing = field.points.length > 1 ? Math.abs(field.points[1][0] - field.points[0][0]) : 1;
    scale = longest > 0 ? 0.9 * spacing / longest : 0;
    field.points.forEach(function (p, i) {
      var g = field.gradients[i];
      if (g[0] === null || g[1] === null) return;
      ax.arrow(p[0], p[1], p[0] - scale * g[0], p[1] - scale * g[1], {stroke: "#6b6b6b"});
    });
    ax.onClick(function (x, y) { pick(+x.toFixed(3), +y.toFixed(3)); });
    if (picked) drawPicked();
  }

  function drawPicked() {
    var p = picked.point, g = picked.gradient;
    ax.dot(p[0], p[1], {fill: "#d62728", "class": "picked"});
    ax.arrow(p[0], p[1], p[0] - scale * g[0], p[1] - scale * g[1], {stroke: "#d62728", "stroke-width": 2.5});
    $("at").hidden = false;
    setText("at-point", "(" + p[0] + ", " + p[1] + ")");
    setText("at-value", picked.value_repr);
    setText("at-g0", picked.gradient_repr[0]);
    setText("at-g1", picked.gradient_repr[1]);
  }

  function pick(x0, x1) {
    var q = params(); q.set("x0", x0); q.set("x1", x1);
    return lessonJSON("/api/lessons/gradient?" + q).then(function (d) {
      picked = d; $("message").textContent = ""; drawField(); $("at").dataset.point = x0 + "," + x1;
    }, function (err) { $("message").textContent = err.message; });
  }

  var update = latestOnly(function () {
    var q = params(); q.set("lim", $("lim").value.trim()); q.set("n", $("n").value.trim());
    return lessonJSON("/api/lessons/field?" + q).then(function (d) {
      field = d; picked = null; $("at").hidden = true; $("message").textContent = ""; drawField();
      $("field").dataset.arrows = d.points.length;
    }, function (err) { $("message").textContent = err.message; $("field").dataset.arrows = "error"; });
  });

  $("fn").addEventListener("change", function () { $("formula").hidden = $("fn").value !== "formula"; update(); });
  ["formula", "lim", "n"].forEach(function (id) { $(id).addEventListener("change", update); });
  $("formula").hidden = $("fn").value !== "formula";
  update();
})();
