// The lessons' drawing: axes (linear or log), lines, dots, arrows and text on an SVG, and fetching
// the board's JSON. It computes nothing of the lesson: every number it draws came from the board.
"use strict";
// matplotlib's colours C0..C9, as in nnlearn's figures.
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
var LESSON_COLORS = {forward: "#1f77b4", central: "#ff7f0e", complex: "#2ca02c", tangent: "#d62728", f: "#333"};
var _clipCount = 0;

function lessonJSON(url) {
  return fetch(url, {cache: "no-store"}).then(function (r) {
    return r.json().then(function (body) { if (!r.ok) throw new Error(body.error || r.statusText); return body; });
  });
}

// Calls fn(args) at most once at a time; the last call made while one runs is the next to run.
function latestOnly(fn) {
  var running = false, queued = null;
  function go(args) {
    running = true;
    Promise.resolve(fn(args)).catch(function () {}).then(function () {
      running = false;
      if (queued !== null) { var next = queued; queued = null; go(next); }
    });
  }
  return function (args) { if (running) queued = args === undefined ? true : args; else go(args); };
}

function logTicks(lo, hi) {
  var a = Math.ceil(Math.log10(lo) - 1e-9), b = Math.floor(Math.log10(hi) + 1e-9), every = Math.max(1, Math.ceil((b - a) / 6));
  var out = [];
  for (var k = b; k >= a; k -= every) out.push(Math.pow(10, k));
  return out;
}

function tickLabel(t, log) {
  if (log) return "1e" + Math.round(Math.log10(t));
  return +t.toPrecision(4) + "";
}

// opts: {x: [lo, hi], y: [lo, hi], xlog, ylog, title, xlabel, ylabel, headroom}; the SVG's width and height
// attributes give its size. headroom: pixels at the top kept above y[1] (the y axis is stretched), where a
// legend and labels cover no data.
function Axes(svg, opts) {
  this.svg = svg;
  this.W = +svg.getAttribute("width"); this.H = +svg.getAttribute("height");
  this.left = 58; this.right = 12; this.top = 28; this.bottom = 40;
  this.pw = this.W - this.left - this.right; this.ph = this.H - this.top - this.bottom;
  this.o = opts;
  if (opts.headroom) {
    var f = opts.headroom / this.ph, t = opts.ylog ? Math.log10 : function (v) { return v; };
    var hi = (t(opts.y[1]) - f * t(opts.y[0])) / (1 - f);
    opts.y = [opts.y[0], opts.ylog ? Math.pow(10, hi) : hi];
  }
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  this.clip = "clip" + (++_clipCount);
  var defs = el("defs", {}), cp = el("clipPath", {id: this.clip});
  cp.appendChild(el("rect", {x: this.left, y: this.top, width: this.pw, height: this.ph}));
  defs.appendChild(cp); svg.appendChild(defs);
  svg.appendChild(el("rect", {x: this.left, y: this.top, width: this.pw, height: this.ph, fill: "#fff", stroke: "#bbb"}));
  this.axes();
  this.layer = el("g", {"clip-path": "url(#" + this.clip + ")"});
  svg.appendChild(this.layer);
}

Axes.prototype.frac = function (v, range, log) {
  if (log) return (Math.log10(v) - Math.log10(range[0])) / (Math.log10(range[1]) - Math.log10(range[0]));
  return (v - range[0]) / (range[1] - range[0]);
};
Axes.prototype.X = function (v) { return this.left + this.frac(v, this.o.x, this.o.xlog) * this.pw; };
Axes.prototype.Y = function (v) {
  var f = this.frac(v, this.o.y, this.o.ylog);
  return this.top + (1 - Math.max(-10, Math.min(11, f))) * this.ph;  // far outside: clipped, never Infinity
};
Axes.prototype.invert = function (px, py) {
  var fx = (px - this.left) / this.pw, fy = 1 - (py - this.top) / this.ph, x = this.o.x, y = this.o.y;
  return [x[0] + fx * (x[1] - x[0]), y[0] + fy * (y[1] - y[0])];
};

Axes.prototype.axes = function () {
  var self = this, o = this.o, svg = this.svg;
  var yt = o.ylog ? logTicks(o.y[0], o.y[1]) : niceTicks(o.y[0], o.y[1], 5);
  yt.forEach(function (t) {
    var y = self.Y(t);
    svg.appendChild(el("line", {x1: self.left, x2: self.left + self.pw, y1: y, y2: y, stroke: "#eee"}));
    svg.appendChild(el("text", {x: self.left - 5, y: y + 4, "text-anchor": "end", "font-size": 10}, tickLabel(t, o.ylog)));
  });
  var xt = o.xlog ? logTicks(o.x[0], o.x[1]) : niceTicks(o.x[0], o.x[1], 6);
  xt.forEach(function (t) {
    var x = self.X(t);
    svg.appendChild(el("line", {x1: x, x2: x, y1: self.top, y2: self.top + self.ph, stroke: "#f2f2f2"}));
    svg.appendChild(el("text", {x: x, y: self.top + self.ph + 14, "text-anchor": "middle", "font-size": 10}, tickLabel(t, o.xlog)));
  });
  svg.appendChild(el("text", {x: this.left + this.pw / 2, y: 17, "text-anchor": "middle", "font-weight": "bold", "font-size": 13}, o.title || ""));
  svg.appendChild(el("text", {x: this.left + this.pw / 2, y: this.H - 6, "text-anchor": "middle", "font-size": 12}, o.xlabel || ""));
  svg.appendChild(el("text", {transform: "translate(13 " + (this.top + this.ph / 2) + ") rotate(-90)", "text-anchor": "middle", "font-size": 12}, o.ylabel || ""));
};

// points: [[x, y], ...]; a null or non-finite y (or x) lifts the pen.
Axes.prototype.path = function (points, attrs) {
  var d = [], up = true, self = this, n = 0;
  points.forEach(function (p) {
    var ok = p && p[0] !== null && p[1] !== null && isFinite(p[0]) && isFinite(p[1]) && !(self.o.ylog && p[1] <= 0);
    if (!ok) { up = true; return; }
    d.push((up ? "M" : "L") + self.X(p[0]).toFixed(1) + "," + self.Y(p[1]).toFixed(1)); up = false; n++;
  });
  var a = {d: d.join(" ") || "M0,0", fill: "none", "stroke-width": 1.8, "data-points": n};
  for (var k in attrs) a[k] = attrs[k];
  var e = el("path", a); this.layer.appendChild(e); return e;
};
Axes.prototype.dot = function (x, y, attrs) {
  var a = {cx: this.X(x), cy: this.Y(y), r: 3.5};
  for (var k in attrs) a[k] = attrs[k];
  var e = el("circle", a); this.layer.appendChild(e); return e;
};
// A vertical line at x; its label in the row'th line of text from the top (0 when not given).
Axes.prototype.vline = function (x, attrs, label, row) {
  var a = {x1: this.X(x), x2: this.X(x), y1: this.top, y2: this.top + this.ph, stroke: "#888", "stroke-dasharray": "4 3"};
  for (var k in attrs) a[k] = attrs[k];
  this.layer.appendChild(el("line", a));
  var y = this.top + 12 + 13 * (row || 0), px = this.X(x), right = px > this.left + this.pw - 70;
  if (label) this.layer.appendChild(el("text", {x: right ? px - 3 : px + 3, y: y, "font-size": 10, fill: a.stroke, "class": "vline-label",
                                                "text-anchor": right ? "end" : "start"}, label));
};
Axes.prototype.text = function (px, py, str, attrs) {
  var a = {x: px, y: py, "font-size": 11};
  for (var k in attrs) a[k] = attrs[k];
  var e = el("text", a, str); this.svg.appendChild(e); return e;
};
// An arrow from (x0, y0) to (x1, y1) in data coordinates; its head is drawn in pixels.
Axes.prototype.arrow = function (x0, y0, x1, y1, attrs) {
  var a = this.X(x0), b = this.Y(y0), c = this.X(x1), d = this.Y(y1), len = Math.hypot(c - a, d - b);
  var g = el("g", {"class": "arrow"}), color = (attrs && attrs.stroke) || "#666";
  g.appendChild(el("line", {x1: a, y1: b, x2: c, y2: d, stroke: color, "stroke-width": (attrs && attrs["stroke-width"]) || 1.2}));
  if (len > 1) {
    var ux = (c - a) / len, uy = (d - b) / len, s = Math.min(7, len * 0.4);
    var pts = [c, d, c - s * ux + s * 0.45 * uy, d - s * uy - s * 0.45 * ux, c - s * ux - s * 0.45 * uy, d - s * uy + s * 0.45 * ux];
    g.appendChild(el("polygon", {points: pts.map(function (v) { return v.toFixed(1); }).join(" "), fill: color}));
  }
  this.layer.appendChild(g); return g;
};
// Contour lines as the board traced them: [{level, lines: [[[x, y], ...], ...]}].
Axes.prototype.contours = function (contours) {
  var self = this;
  contours.forEach(function (c) { c.lines.forEach(function (line) { self.path(line, {stroke: "#c8c8c8", "stroke-width": 0.9, "class": "contour"}); }); });
};
// The legend at the top left: one item a line, or side by side with inline = true.
Axes.prototype.legend = function (items, inline) {
  var self = this, y = this.top + 14, wide = 0;
  if (inline) {
    var g = el("g", {"class": "legend"}), x = this.left + 6;
    this.svg.appendChild(g);
    items.forEach(function (it) {
      var line = {x1: x, x2: x + 18, y1: y - 4, y2: y - 4, stroke: it.color, "stroke-width": 2.5};
      if (it.dash) line["stroke-dasharray"] = it.dash;
      g.appendChild(el("line", line));
      var text = el("text", {x: x + 22, y: y, "font-size": 10.5}, it.label);
      g.appendChild(text);
      x += 22 + text.getComputedTextLength() + 14;
    });
    return g;
  }
  items.forEach(function (it) { wide = Math.max(wide, it.label.length); });
  this.svg.appendChild(el("rect", {x: this.left + 3, y: this.top + 3, width: 36 + 5.8 * wide, height: 14 * items.length + 4,
                                   fill: "#fff", "fill-opacity": 0.85, stroke: "#ddd"}));
  items.forEach(function (it) {
    var line = {x1: self.left + 8, x2: self.left + 28, y1: y - 4, y2: y - 4, stroke: it.color, "stroke-width": 2.5};
    if (it.dash) line["stroke-dasharray"] = it.dash;
    self.svg.appendChild(el("line", line));
    self.svg.appendChild(el("text", {x: self.left + 33, y: y, "font-size": 10.5}, it.label));
    y += 14;
  });
};
// Calls fn(x, y) with the data coordinates of a click inside the axes.
Axes.prototype.onClick = function (fn) {
  var self = this;
  this.svg.onclick = function (ev) {
    var box = self.svg.getBoundingClientRect();
    var px = (ev.clientX - box.left) * self.W / box.width, py = (ev.clientY - box.top) * self.H / box.height;
    if (px < self.left || px > self.left + self.pw || py < self.top || py > self.top + self.ph) return;
    var p = self.invert(px, py);
    fn(p[0], p[1]);
  };
};

function setText(id, text) { document.getElementById(id).textContent = text; }
