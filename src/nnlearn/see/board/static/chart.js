// A small line chart drawn as SVG: the board's only plotting code (no library, nothing from the network).
"use strict";
var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
var SVGNS = "http://www.w3.org/2000/svg";

function niceTicks(lo, hi, n) {
  if (!(isFinite(lo) && isFinite(hi)) || hi <= lo) return [lo];
  var raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw))), step = mag;
  [1, 2, 2.5, 5, 10].some(function (m) { step = m * mag; return step >= raw; });
  var out = [];
  for (var t = Math.ceil(lo / step - 1e-9) * step; t <= hi + 1e-9 * step; t += step) out.push(+t.toPrecision(12));
  return out;
}

function el(name, attrs, text) {
  var e = document.createElementNS(SVGNS, name);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmt(v) { return +v.toPrecision(4) + ""; }

// series: [{label, run, x: [], y: [], color, dash, markers}]; opts: {title, xlabel, ylabel, ylim, percent, legend}
function drawChart(svg, series, opts) {
  var W = 540, H = 320, left = 62, right = 16, top = 30, bottom = 44, pw = W - left - right, ph = H - top - bottom;
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  var xs = [], ys = [];
  series.forEach(function (s) { s.x.forEach(function (x, i) { var y = s.y[i]; if (y !== null && isFinite(y)) { xs.push(x); ys.push(y); } }); });
  var x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (xs.length) {
    x0 = Math.min.apply(null, xs); x1 = Math.max.apply(null, xs);
    if (x1 === x0) { x0 -= 0.5; x1 += 0.5; }
    if (opts.ylim) { y0 = opts.ylim[0]; y1 = opts.ylim[1]; } else { y0 = Math.min.apply(null, ys); y1 = Math.max.apply(null, ys); }
    if (y1 === y0) { y0 -= 0.05; y1 += 0.05; }
  }
  var X = function (x) { return left + (x - x0) / (x1 - x0) * pw; };
  var Y = function (y) { return top + (1 - (Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * ph; };
  svg.appendChild(el("rect", {x: left, y: top, width: pw, height: ph, fill: "#fff", stroke: "#bbb"}));
  svg.appendChild(el("text", {x: left + pw / 2, y: 18, "text-anchor": "middle", "font-weight": "bold"}, opts.title || ""));
  niceTicks(y0, y1, 5).forEach(function (t) {
    var y = Y(t);
    svg.appendChild(el("line", {x1: left, x2: left + pw, y1: y, y2: y, stroke: "#eee"}));
    var label = opts.percent ? (t * 100).toFixed(y1 - y0 < 0.05 ? 1 : 0) + "%" : fmt(t);
    svg.appendChild(el("text", {x: left - 6, y: y + 4, "text-anchor": "end", "font-size": 11}, label));
  });
  niceTicks(x0, x1, 6).forEach(function (t) {
    var x = X(t);
    svg.appendChild(el("line", {x1: x, x2: x, y1: top + ph, y2: top + ph + 4, stroke: "#888"}));
    svg.appendChild(el("text", {x: x, y: top + ph + 16, "text-anchor": "middle", "font-size": 11}, fmt(t)));
  });
  svg.appendChild(el("text", {x: left + pw / 2, y: H - 6, "text-anchor": "middle", "font-size": 12}, opts.xlabel || ""));
  svg.appendChild(el("text", {transform: "translate(14 " + (top + ph / 2) + ") rotate(-90)", "text-anchor": "middle", "font-size": 12}, opts.ylabel || ""));
  var longest = Math.max.apply(null, [0].concat(series.map(function (s) { return 30 + 6.5 * s.label.length; })));
  var lx = left + pw - 10 - longest;
  var ly = opts.legend === "lower right" ? top + ph - 8 - 15 * (series.length - 1) : top + 14;
  series.forEach(function (s, k) {
    var color = s.color || PALETTE[k % PALETTE.length], d = [], penUp = true, n = 0;
    s.x.forEach(function (x, i) {
      var y = s.y[i];
      if (y === null || !isFinite(y)) { penUp = true; return; }
      d.push((penUp ? "M" : "L") + X(x).toFixed(1) + "," + Y(y).toFixed(1)); penUp = false; n++;
    });
    var attrs = {"class": "series", "data-label": s.label, "data-run": s.run || "", "data-points": n,
                 d: d.join(" ") || "M0,0", fill: "none", stroke: color, "stroke-width": 1.8};
    if (s.dash) attrs["stroke-dasharray"] = "5 3";
    svg.appendChild(el("path", attrs));
    if (s.markers) s.x.forEach(function (x, i) {
      var y = s.y[i]; if (y !== null && isFinite(y)) svg.appendChild(el("circle", {cx: X(x), cy: Y(y), r: 3, fill: color}));
    });
    svg.appendChild(el("line", {x1: lx, x2: lx + 20, y1: ly - 4, y2: ly - 4, stroke: color, "stroke-width": 2.5}));
    svg.appendChild(el("text", {x: lx + 26, y: ly, "font-size": 11}, s.label));
    ly += 15;
  });
}

function zoomedRange(values) {
  var v = values.filter(function (y) { return y !== null && isFinite(y); });
  if (!v.length) return [0, 1];
  var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v), pad = Math.max((hi - lo) * 0.1, 0.005);
  return [Math.max(0, lo - pad), Math.min(1, hi + pad)];
}
