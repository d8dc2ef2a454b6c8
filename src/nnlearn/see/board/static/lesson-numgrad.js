// Lesson 4.4.2: replays, one stage per "Next", the calls numerical_gradient made (recorded by the board).
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var trace = null, stage = 0;  // stage 3k, 3k+1, 3k+2: element k moved by +h, by -h, restored
  var STAGES = 3;

  function matrix(id, rows, cls) {
    var body = document.querySelector("#" + id + " tbody");
    while (body.firstChild) body.removeChild(body.firstChild);
    rows.forEach(function (row, i) {
      var r = body.insertRow();
      row.forEach(function (v, j) { var c = r.insertCell(); c.textContent = v; c.dataset.i = i; c.dataset.j = j; if (cls && cls[i][j]) c.className = cls[i][j]; });
    });
  }

  function name(idx) { return "W[" + idx[0] + ", " + idx[1] + "]"; }

  function show() {
    var total = trace.steps.length * STAGES, done = Math.min(stage, total);
    var k = Math.floor((done - 1) / STAGES), part = (done - 1) % STAGES;
    var grad = trace.gradient_repr.map(function (row) { return row.map(function () { return ""; }); });
    var cls = grad.map(function (row) { return row.map(function () { return ""; }); });
    var W = trace.W, text = fill(_("Press Next: numerical_gradient starts with {element}."), {element: name(trace.steps[0].index)});
    trace.steps.forEach(function (s, n) {
      if (n < k || (n === k && part === 2)) { grad[s.index[0]][s.index[1]] = s.partial_repr; cls[s.index[0]][s.index[1]] = "done"; }
    });
    if (done > 0) {
      var s = trace.steps[k], i = s.index[0], j = s.index[1];
      var moved = cls.map(function (row) { return row.slice(); });
      if (part === 0) {
        W = s.plus.W; moved[i][j] = "moved";
        text = name(s.index) + " + h = " + s.plus.W[i][j] + "  →  f(W) = net.loss(x, t) = " + s.plus.loss_repr;
      } else if (part === 1) {
        W = s.minus.W; moved[i][j] = "moved";
        text = name(s.index) + " − h = " + s.minus.W[i][j] + "  →  f(W) = net.loss(x, t) = " + s.minus.loss_repr;
      } else {
        moved[i][j] = "done now";
        text = fill(_("{element} restored to {value}"), {element: name(s.index), value: trace.W[i][j]}) + ";  dW[" + i + ", " + j +
               "] = (" + s.plus.loss_repr + " − " + s.minus.loss_repr + ") / (2 · " + trace.h_repr + ") = " + s.partial_repr;
      }
      matrix("W", W, part < 2 ? moved : null);
      cls[i][j] = part === 2 ? "done now" : "now";
    } else {
      matrix("W", W, null);
    }
    matrix("grad", grad, cls);
    setText("stage", text);
    var calls = done === 0 ? 0 : 2 * k + (part === 0 ? 1 : 2);
    setText("progress", fill(_("step {done} of {total} (f called {calls} times so far)"), {done: done, total: total, calls: calls}));
    $("why").hidden = done < total;
    $("next").disabled = done >= total;
    $("grad").dataset.filled = trace.steps.filter(function (s, n) { return n < k || (n === k && part === 2); }).length;
  }

  lessonJSON("/api/lessons/numgrad").then(function (d) {
    trace = d;
    setText("x", "[" + d.x.join(", ") + "]"); setText("t", "[" + d.t.join(", ") + "]");
    setText("h", d.h_repr); setText("loss", d.loss_repr);
    setText("restored", d.restored ? _("unchanged (the same bits)") : _("CHANGED"));
    setText("copy-gradient", JSON.stringify(d.gradient_of_a_copy).replace(/"/g, ""));
    show();
  }, function (err) { $("message").textContent = err.message; });

  $("next").addEventListener("click", function () { if (trace) { stage++; show(); } });
  $("finish").addEventListener("click", function () { if (trace) { stage = trace.steps.length * STAGES; show(); } });
  $("restart").addEventListener("click", function () { if (trace) { stage = 0; show(); } });
})();
