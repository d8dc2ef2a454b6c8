// The page's language for the board's scripts: _("...") is a message in it, read from the JSON of the
// page's <meta name="nnlearn-messages"> (nnlearn.see.board.language.script_messages: one catalogue for pages and scripts);
// fill() puts numbers and names into a message's {fields}. Loaded first by every page.
"use strict";
var I18N_MESSAGES = (function () {
  var meta = document.querySelector('meta[name="nnlearn-messages"]');
  try { return meta ? JSON.parse(meta.getAttribute("content")) : {}; } catch (e) { return {}; }
})();

function _(message) { return Object.prototype.hasOwnProperty.call(I18N_MESSAGES, message) ? I18N_MESSAGES[message] : message; }

function fill(message, fields) {
  return message.replace(/\{(\w+)\}/g, function (whole, name) { return name in fields ? String(fields[name]) : whole; });
}

// The language links keep the page's other parameters (?path=... of the draw page).
(function () {
  var here = new URLSearchParams(location.search);
  Array.prototype.forEach.call(document.querySelectorAll("nav.languages a[hreflang]"), function (a) {
    var q = new URLSearchParams(here);
    q.set("lang", a.getAttribute("hreflang"));
    a.setAttribute("href", "?" + q.toString());
  });
})();
