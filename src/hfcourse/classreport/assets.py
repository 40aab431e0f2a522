"""The inline style sheet and script of both pages (nothing is loaded from elsewhere)."""

from __future__ import annotations

__all__ = ["CSP", "CSS", "JS"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
"""Content-Security-Policy: the page may not fetch anything, even if a text slipped through."""

CSS = """
html[data-lang="en"] body [lang="zh"], html[data-lang="zh"] body [lang="en"] { display: none; }
body { font: 14px/1.45 system-ui, "Noto Sans CJK SC", sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 0 18px 40px; color: #1b1b1b; }
header { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 2px solid #333;
         margin-bottom: 8px; }
h1 { font-size: 22px; margin: 16px 0 6px; } h2 { font-size: 18px; margin: 26px 0 8px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
.langs button { font: inherit; margin-left: 4px; padding: 2px 8px; border: 1px solid #888; background: #fff;
                border-radius: 4px; cursor: pointer; }
html[data-lang="en"] .langs button[data-lang="en"], html[data-lang="zh"] .langs button[data-lang="zh"] {
  background: #333; color: #fff; }
table { border-collapse: collapse; margin: 6px 0; max-width: 100%; }
table.failing code { white-space: nowrap; } table.failing td:last-child { min-width: 220px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } td.num { white-space: nowrap; }
table.sortable th[data-key] { cursor: pointer; user-select: none; }
table.sortable th[data-key]::after { content: " ↕"; color: #999; }
table.sortable th.asc::after { content: " ↑"; color: #000; } table.sortable th.desc::after { content: " ↓"; color: #000; }
table.heatmap td.cell { text-align: center; min-width: 52px; font-variant-numeric: tabular-nums; }
table.heatmap td.na { background-image: repeating-linear-gradient(45deg, transparent 0 5px, #0000001a 5px 7px); }
table.heatmap tr.error td { color: #999; font-style: italic; }
.help { color: #555; margin: 2px 0 6px; }
.passed { color: #17702a; } .failed { color: #b3261e; }
pre { white-space: pre-wrap; margin: 2px 0; font-size: 12px; background: #f7f7f7; padding: 4px; }
.plot { display: block; margin: 6px 0 12px; max-width: 100%; height: auto; }
.hidden-counts { background: #f4f4fa; border-left: 4px solid #88a; padding: 4px 10px; margin: 8px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
"""

JS = r"""
(function () {
  var root = document.documentElement;
  function setLang(lang) { root.dataset.lang = lang; root.lang = lang === "zh" ? "zh-CN" : "en"; }
  document.querySelectorAll(".langs button").forEach(function (b) {
    b.addEventListener("click", function () { setLang(b.dataset.lang); });
  });
  function value(row, i) {
    var v = row.cells[i].dataset.v;
    return v === undefined ? row.cells[i].textContent : v;
  }
  function sortBy(table, th, dir) {
    var i = Array.prototype.indexOf.call(th.parentNode.children, th);
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a, i), y = value(b, i), nx = Number(x), ny = Number(y);
      var c = (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      if (dir !== "asc") c = -c;
      return c !== 0 ? c : value(a, 0).localeCompare(value(b, 0));
    });
    rows.forEach(function (r) { body.appendChild(r); });
    table.querySelectorAll("th[data-key]").forEach(function (h) { h.classList.remove("asc", "desc"); });
    th.classList.add(dir);
    table.dataset.sorted = th.dataset.key + ":" + dir;
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th[data-key]").forEach(function (th) {
      th.addEventListener("click", function () {
        sortBy(table, th, th.classList.contains("desc") ? "asc" :
               th.classList.contains("asc") ? "desc" : (th.dataset.first || "asc"));
      });
    });
  });
  var args = new URLSearchParams(location.hash.slice(1));
  if (args.get("lang")) setLang(args.get("lang") === "zh" ? "zh" : "en");
  if (args.get("sort")) {
    var th = document.querySelector('table.sortable th[data-key="' + CSS.escape(args.get("sort")) + '"]');
    if (th) sortBy(th.closest("table"), th, args.get("dir") === "asc" ? "asc" : (args.get("dir") || th.dataset.first || "asc"));
  }
  document.body.dataset.ready = "1";
})();
"""
