// Draw a digit: the canvas goes to the board as a PNG while drawing; the board answers with the
// 28x28 input `nnlearn predict` would make of it and the ten probabilities.
"use strict";
(function () {
  var run = new URLSearchParams(location.search).get("path") || "";
  var pad = document.getElementById("pad"), ctx = pad.getContext("2d");
  var preview = document.getElementById("preview"), pctx = preview.getContext("2d");
  var bars = document.querySelector("#bars tbody"), message = document.getElementById("message");
  var INTERVAL = 120;  // ms between predictions while drawing: about 8 a second
  var drawing = false, last = null, busy = false, pending = false, lastSent = 0, timer = null, generation = 0;
  document.getElementById("run").textContent = run;
  // For tests and the curious: how many predictions were shown, and of which state of the pad.
  var state = window.nnlearnDraw = {predictions: 0, last: null, strokes: 0, shown: -1};

  for (var k = 0; k < 10; k++) {
    var row = bars.insertRow(); row.dataset.k = k;
    row.insertCell().textContent = k;
    var bar = document.createElement("span"); bar.className = "bar"; bar.style.width = "0px";
    var c = row.insertCell(); c.style.width = "200px"; c.appendChild(bar);
    row.insertCell().className = "p";
    var opt = document.createElement("option"); opt.value = k; opt.textContent = k; document.getElementById("klass").appendChild(opt);
  }

  function clear() {
    generation++;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, pad.width, pad.height);
    pctx.fillStyle = "#000"; pctx.fillRect(0, 0, 28, 28);
    document.getElementById("predicted").textContent = "?";
    document.getElementById("source").textContent = "";
    show(null);
  }

  function show(answer) {
    var probs = answer ? answer.probabilities : null;
    for (var k = 0; k < 10; k++) {
      var row = bars.rows[k], p = probs ? probs[k] : 0;
      row.className = answer && answer.predicted === k ? "best" : "";
      row.querySelector(".bar").style.width = (200 * p).toFixed(1) + "px";
      row.cells[2].textContent = probs ? p.toFixed(6) : "";
      row.cells[2].dataset.p = probs ? String(p) : "";
    }
    if (!answer) return;
    document.getElementById("predicted").textContent = answer.predicted;
    var img = pctx.createImageData(28, 28);
    answer.preview.forEach(function (v, i) {
      var g = Math.round(255 * v);
      img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g; img.data[4 * i + 3] = 255;
    });
    pctx.putImageData(img, 0, 0);
    state.predictions++;
    state.last = answer;
  }

  function answerOf(r) {
    return r.json().then(function (body) { if (!r.ok) throw new Error(body.error || r.statusText); return body; });
  }

  function predict() {
    if (busy) { pending = true; return; }
    busy = true; pending = false; lastSent = Date.now();
    var gen = generation, version = state.strokes;
    pad.toBlob(function (blob) {
      fetch("/api/predict?path=" + encodeURIComponent(run), {method: "POST", body: blob, headers: {"Content-Type": "image/png"}})
        .then(answerOf)
        .then(function (answer) { if (gen === generation) { message.textContent = ""; show(answer); state.shown = version; } },
              function (err) { if (gen === generation) message.textContent = err.message; })
        .then(function () { busy = false; if (pending) predict(); });
    }, "image/png");
  }

  function soon() {  // throttle: at most one prediction per INTERVAL while drawing
    var wait = INTERVAL - (Date.now() - lastSent);
    if (wait <= 0) predict();
    else if (!timer) timer = setTimeout(function () { timer = null; predict(); }, wait);
  }

  function point(e) {
    var r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }
  function stroke(to) {
    ctx.fillStyle = ctx.strokeStyle = "#000"; ctx.lineWidth = 18; ctx.lineCap = "round"; ctx.lineJoin = "round";
    ctx.beginPath();
    // A line of length 0 paints nothing: the first touch of a stroke is a round dot.
    if (to[0] === last[0] && to[1] === last[1]) { ctx.arc(to[0], to[1], 9, 0, 2 * Math.PI); ctx.fill(); }
    else { ctx.moveTo(last[0], last[1]); ctx.lineTo(to[0], to[1]); ctx.stroke(); }
    last = to; state.strokes++;
  }
  pad.addEventListener("pointerdown", function (e) {
    generation++; drawing = true; last = point(e); stroke(last); pad.setPointerCapture(e.pointerId); soon();
  });
  pad.addEventListener("pointermove", function (e) { if (drawing) { stroke(point(e)); soon(); } });
  function up() { if (drawing) { drawing = false; predict(); } }
  pad.addEventListener("pointerup", up);
  pad.addEventListener("pointercancel", up);

  function sample(query) {
    generation++;
    var gen = generation;
    fetch("/api/sample?path=" + encodeURIComponent(run) + "&" + query).then(answerOf).then(function (answer) {
      if (gen !== generation) return;
      // The test image itself, upscaled on the pad as dark ink on paper; the prediction is the network's on the image.
      var img = ctx.createImageData(28, 28);
      answer.preview.forEach(function (v, i) {
        var g = Math.round(255 * (1 - v));
        img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g; img.data[4 * i + 3] = 255;
      });
      var tmp = document.createElement("canvas"); tmp.width = tmp.height = 28; tmp.getContext("2d").putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false; ctx.drawImage(tmp, 0, 0, pad.width, pad.height);
      message.textContent = "";
      document.getElementById("source").textContent = fill(_("test image #{index}, true class {label}"), {index: answer.index, label: answer.true});
      show(answer);
    }, function (err) { message.textContent = err.message; });
  }
  document.getElementById("clear").addEventListener("click", clear);
  document.getElementById("sample").addEventListener("click", function () { sample("class=" + document.getElementById("klass").value); });
  document.getElementById("mistake").addEventListener("click", function () { sample("mistake=1"); });
  clear();
})();
