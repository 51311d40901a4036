// socialleads dashboard: draws the charts from their JSON and runs the live view.
// No inline script anywhere (Content-Security-Policy script-src 'self'); data is only ever inserted
// as text (textContent), never as HTML.
"use strict";

function drawFigures() {
  if (typeof Plotly === "undefined") { return; }
  document.querySelectorAll(".plotly-fig[data-figure]").forEach(function (el) {
    var spec = JSON.parse(el.getAttribute("data-figure"));
    Plotly.newPlot(el, spec.data, spec.layout, spec.config);
  });
  document.querySelectorAll(".plotly-spec[data-figure]").forEach(function (el) {
    var target = document.getElementById(el.getAttribute("data-target"));
    if (!target) { return; }
    var spec = JSON.parse(el.getAttribute("data-figure"));
    Plotly.newPlot(target, spec.data, spec.layout, spec.config);
  });
}

function cell(text) {
  var td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  return td;
}

function prepend(tbody, cells, max) {
  var tr = document.createElement("tr");
  cells.forEach(function (c) { tr.appendChild(cell(c)); });
  tbody.insertBefore(tr, tbody.firstChild);
  while (tbody.rows.length > max) { tbody.deleteRow(tbody.rows.length - 1); }
}

function startLive() {
  var status = document.getElementById("live-status");
  if (!status || typeof EventSource === "undefined") { return; }
  var count = document.getElementById("live-count");
  var posts = document.querySelector("#live-posts tbody");
  var alerts = document.querySelector("#live-alerts tbody");
  var total = 0;
  var first = true;
  var source = new EventSource("/api/live/stream");
  source.addEventListener("batch", function (ev) {
    var d = JSON.parse(ev.data);
    if (!first) { total += d.new_posts; }
    first = false;
    count.textContent = String(total);
    d.posts.slice().reverse().forEach(function (p) {
      prepend(posts, [p.seen_at, p.platform, p.handle || p.author, (p.text || "").slice(0, 200)], 50);
    });
    d.alerts.slice().reverse().forEach(function (a) {
      prepend(alerts, [a.raised_at, a.monitor, a.kind, a.peak_count], 20);
    });
    status.textContent = "live: up to date at " + (d.cursor || "–");
  });
  source.addEventListener("status", function (ev) {
    status.textContent = JSON.parse(ev.data).message;
  });
  source.onerror = function () { status.textContent = "disconnected; retrying…"; };
}

document.addEventListener("DOMContentLoaded", function () {
  drawFigures();
  startLive();
});
