// Lesson 4.4.1: the path of gradient descent and of ch. 6's optimizers, as the board computed them.
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var VERDICTS = {descended: _("descended: f went down"), diverged: _("diverged: f went up, each step overshoots further"),
                  oscillated: _("oscillated: x jumped back and forth and f did not go down"), stayed: _("stayed: it hardly moved")};

  function lrFromSlider() { return Number(Math.pow(10, +$("lrslider").value).toPrecision(2)); }
  function syncSlider() { var lr = Number($("lr").value); if (lr > 0) $("lrslider").value = Math.log10(lr).toFixed(1); }

  function drawPath(svg, d, title, color, names) {
    names = names || ["x0", "x1"];
    var b = d.box, ax = new Axes(svg, {x: [b[0], b[1]], y: [b[2], b[3]], title: title, xlabel: names[0], ylabel: names[1]});
    ax.contours(d.contours);
    ax.path(d.path, {stroke: color, "stroke-width": 1.4, "class": "descent-path"});
    d.path.forEach(function (p) { ax.dot(p[0], p[1], {r: 2.2, fill: color}); });
    ax.dot(d.path[0][0], d.path[0][1], {r: 5, fill: "none", stroke: "#000", "stroke-width": 1.5});
    return ax;
  }

  function fmtPoint(p) { return "(" + p.join(", ") + ")"; }

  function draw(d) {
    $("message").textContent = "";
    var ax = drawPath($("path"), d, "f(x0, x1) = " + d.function + ", lr = " + d.lr_repr, "#1f77b4");
    var b = d.box, outside = d.path.some(function (p) { return !(p[0] >= b[0] && p[0] <= b[1] && p[1] >= b[2] && p[1] <= b[3]); });
    if (outside) ax.text(ax.left + 8, ax.top + ax.ph - 10, _("the path leaves the picture: see where it ends →"), {fill: "#c62828"});
    var v = $("verdict"); v.textContent = VERDICTS[d.verdict]; v.className = "verdict-" + d.verdict;
    setText("res-lr", fill(_("{lr}, {steps} steps"), {lr: d.lr_repr, steps: d.steps}));
    setText("res-end", fmtPoint(d.path[0]) + " → [" + d.end_repr.join(", ") + "]");
    setText("res-f", d.f_start.toPrecision(6) + " → " + (d.f_end === null ? "inf" : d.f_end.toPrecision(6)));
    setText("res-moved", (d.moved === null ? "inf" : d.moved.toPrecision(3)) + " / " + (d.travelled === null ? "inf" : d.travelled.toPrecision(3)));
    $("result").dataset.lr = d.lr_repr;
    $("result").dataset.verdict = d.verdict;
  }

  var update = latestOnly(function () {
    var q = new URLSearchParams({f: $("fn").value, x0: $("x0").value.trim(), x1: $("x1").value.trim(),
                                 lr: $("lr").value.trim(), steps: $("steps").value.trim()});
    if ($("fn").value === "formula") q.set("formula", $("formula").value);
    return lessonJSON("/api/lessons/descent?" + q).then(draw, function (err) {
      $("message").textContent = err.message; $("result").dataset.lr = "error";
    });
  });

  var race = latestOnly(function () {
    return lessonJSON("/api/lessons/race?" + new URLSearchParams({steps: $("race-steps").value.trim()})).then(function (d) {
      $("race-message").textContent = "";
      d.paths.forEach(function (p, k) {
        drawPath($("race-" + k), {box: d.box, contours: d.contours, path: p.path},
                 fill(_("{optimizer} (lr = {lr}): ends at ({end})"), {optimizer: p.optimizer, lr: p.lr,
                                                                   end: p.end.map(function (v) { return v.toFixed(3); }).join(", ")}),
                 PALETTE[k], ["x", "y"]);
      });
      $("race-0").dataset.steps = d.steps;
    }, function (err) { $("race-message").textContent = err.message; });
  });

  $("lrslider").addEventListener("input", function () { $("lr").value = String(lrFromSlider()); update(); });
  $("lr").addEventListener("change", function () { syncSlider(); update(); });
  Array.prototype.forEach.call(document.querySelectorAll("button.preset"), function (b) {
    b.addEventListener("click", function () { $("lr").value = b.dataset.lr; syncSlider(); update(); });
  });
  $("fn").addEventListener("change", function () { $("formula").hidden = $("fn").value !== "formula"; update(); });
  ["formula", "x0", "x1", "steps"].forEach(function (id) { $(id).addEventListener("change", update); });
  $("race-steps").addEventListener("change", race);
  $("formula").hidden = $("fn").value !== "formula";
  update();
  race();
})();
