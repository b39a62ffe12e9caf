/**
 * The dashboard: one self-contained page (inline CSS and JS, no CDN) embedded as a string so the
 * bundled executable needs no file at run time. It reads only the public REST API.
 *
 * The script is written without backticks or `${`, so this template literal never interpolates.
 */
export const DASHBOARD_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>oxmon</title>
<style>
  :root { --bg: #f5f6f8; --card: #fff; --ink: #1d2430; --muted: #6b7585; --line: #e2e5ea;
          --ok: #1f9d55; --off: #b3b9c4; --bad: #c0392b; --accent: #2563eb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif;
         background: var(--bg); color: var(--ink); }
  header { display: flex; gap: 16px; align-items: baseline; padding: 10px 20px;
           background: var(--ink); color: #fff; }
  header h1 { margin: 0; font-size: 18px; letter-spacing: .5px; }
  header .meta { color: #c5cbd6; font-size: 12px; }
  #alerts { display: none; margin: 10px 20px 0; padding: 8px 12px; border-radius: 8px;
            background: var(--card); border: 1px solid var(--line); }
  #alerts h2 { margin: 0 0 6px; font-size: 13px; }
  #alerts ul { list-style: none; margin: 0; padding: 0; }
  #alerts li { display: flex; gap: 10px; padding: 3px 0; font-size: 13px; }
  #alerts .sev { flex: none; width: 64px; font-size: 11px; font-weight: 600; text-transform: uppercase; }
  #alerts .sev.critical { color: var(--bad); }
  #alerts .sev.warning { color: #d35400; }
  #alerts .sev.info { color: var(--accent); }
  #alerts .since { margin-left: auto; color: var(--muted); font-size: 11px; }
  #error { display: none; margin: 10px 20px 0; padding: 8px 12px; border-radius: 6px;
           background: #fdecea; color: var(--bad); }
  main { display: grid; grid-template-columns: 240px 1fr; gap: 16px; padding: 16px 20px; }
  aside, .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
  aside { padding: 8px 0; align-self: start; }
  aside h2, section h2, section h3 { margin: 0 0 8px; font-size: 14px; }
  aside h2 { padding: 4px 14px; color: var(--muted); text-transform: uppercase; font-size: 11px; }
  #agents { list-style: none; margin: 0; padding: 0; }
  #agents li { display: flex; gap: 8px; align-items: center; padding: 6px 14px; cursor: pointer; }
  #agents li:hover { background: #eef2fb; }
  #agents li.selected { background: #e0e8fb; font-weight: 600; }
  #agents .when { margin-left: auto; color: var(--muted); font-size: 11px; font-weight: normal; }
  .dot { width: 9px; height: 9px; border-radius: 50%; flex: none; background: var(--off); }
  .dot.active { background: var(--ok); }
  .empty { padding: 6px 14px; color: var(--muted); }
  #sysinfo { margin: 0 0 12px; color: var(--muted); font-size: 12px; }
  .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px;
            margin-bottom: 16px; }
  .card { padding: 10px 12px; }
  .card h3 { margin: 0 0 4px; font-size: 13px; }
  .card svg { display: block; width: 100%; height: auto; }
  .card .axis { font-size: 9px; fill: var(--muted); }
  .card .grid { stroke: var(--line); stroke-width: 1; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 10px; font-size: 11px; color: var(--muted); }
  .legend i { display: inline-block; width: 10px; height: 3px; margin-right: 4px;
              vertical-align: middle; }
  .nodata { fill: var(--muted); font-size: 11px; }
  table { width: 100%; border-collapse: collapse; background: var(--card); font-size: 13px;
          border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
  th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); }
  th { background: #fafbfc; color: var(--muted); font-weight: 600; font-size: 12px; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.labels { color: var(--muted); }
</style>
</head>
<body>
<header><h1>oxmon</h1><span class="meta" id="meta">connecting…</span></header>
<div id="error" role="alert"></div>
<div id="alerts"><h2>Firing alerts</h2><ul></ul></div>
<main>
  <aside><h2>Agents</h2><ul id="agents"></ul></aside>
  <section id="detail">
    <h2 id="agent-title">No agent selected</h2>
    <p id="sysinfo"></p>
    <div class="charts" id="charts"></div>
    <h3>Latest values</h3>
    <table id="latest"><thead><tr><th>Metric</th><th>Labels</th><th>Value</th><th>At</th></tr>
    </thead><tbody></tbody></table>
  </section>
</main>
<script>
"use strict";
var REFRESH_MS = 10000;
var STEP_SECS = 60;
var COLORS = ["#2563eb", "#e67e22", "#16a085", "#8e44ad", "#c0392b", "#7f8c8d"];
var CHARTS = [
  { id: "cpu", title: "CPU usage", unit: "percent", metrics: ["cpu.usage"] },
  { id: "memory", title: "Memory used", unit: "percent", metrics: ["memory.used_percent"] },
  { id: "disk", title: "Disk used", unit: "percent", metrics: ["disk.used_percent"] },
  { id: "network", title: "Network", unit: "bytes/s",
    metrics: ["network.bytes_recv", "network.bytes_sent"] },
  { id: "load", title: "Load average", unit: "",
    metrics: ["system.load_1", "system.load_5", "system.load_15"] }
];
var selected = "";
try {
  selected = decodeURIComponent((location.hash.match(/agent=([^&]*)/) || [])[1] || "");
} catch (error) {
  // A malformed link (#agent=%E0) selects the first agent instead of stopping the page.
}
var generation = 0;

function el(tag, attrs, text) {
  var node = document.createElement(tag);
  for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
  if (text !== undefined) node.textContent = text;
  return node;
}
function svgEl(tag, attrs) {
  var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
  return node;
}
function getJson(path) {
  return fetch(path, { headers: { accept: "application/json" } }).then(function (response) {
    return response.json().then(function (body) {
      if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
      return body;
    });
  });
}
function human(value, base, units) {
  var i = 0;
  while (Math.abs(value) >= base && i < units.length - 1) { value /= base; i++; }
  return (Math.abs(value) >= 100 || i === 0 ? value.toFixed(0) : value.toFixed(1)) + " " + units[i];
}
function format(value, unit) {
  if (unit === "percent") return value.toFixed(1) + " %";
  if (unit === "bytes") return human(value, 1024, ["B", "KiB", "MiB", "GiB", "TiB"]);
  if (unit === "bytes/s") return human(value, 1024, ["B/s", "KiB/s", "MiB/s", "GiB/s"]);
  if (unit === "seconds") {
    var d = Math.floor(value / 86400), h = Math.floor(value % 86400 / 3600);
    return d > 0 ? d + "d " + h + "h" : h + "h " + Math.floor(value % 3600 / 60) + "m";
  }
  if (unit === "ops/s" || unit === "packets/s") return value.toFixed(1) + " " + unit;
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2);
}
function ago(iso) {
  var secs = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return secs < 90 ? secs + "s ago" : secs < 5400 ? Math.round(secs / 60) + "m ago"
    : Math.round(secs / 3600) + "h ago";
}
function clock(ms) {
  var d = new Date(ms);
  return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
}
function labelText(labels) {
  return Object.keys(labels).sort().map(function (k) { return k + "=" + labels[k]; }).join(", ");
}
function showError(message) {
  var box = document.getElementById("error");
  box.textContent = message || "";
  box.style.display = message ? "block" : "none";
}

function renderAgents(agents) {
  var list = document.getElementById("agents");
  list.textContent = "";
  if (agents.length === 0) list.appendChild(el("li", { "class": "empty" }, "No agent has reported yet"));
  agents.forEach(function (agent) {
    var item = el("li", { "data-agent": agent.agent_id, title: agent.status });
    if (agent.agent_id === selected) item.className = "selected";
    item.appendChild(el("span", { "class": "dot " + agent.status }));
    item.appendChild(el("span", { "class": "id" }, agent.agent_id));
    item.appendChild(el("span", { "class": "when" }, ago(agent.last_seen)));
    item.addEventListener("click", function () {
      selected = agent.agent_id;
      location.hash = "agent=" + encodeURIComponent(selected);
      refresh();
    });
    list.appendChild(item);
  });
}

// Byte scales are rounded in their own unit, so an axis reads 200 KiB/s rather than 195 KiB/s.
function niceMax(value, unit) {
  if (!(value > 0)) return 1;
  var scale = 1;
  if (unit === "bytes" || unit === "bytes/s") while (value / scale >= 1024) scale *= 1024;
  var scaled = value / scale;
  var power = Math.pow(10, Math.floor(Math.log10(scaled)));
  var steps = [1, 2, 2.5, 5, 10];
  for (var i = 0; i < steps.length; i++) if (steps[i] * power >= scaled) return steps[i] * power * scale;
  return 10 * power * scale;
}
function axisLabel(value, unit) {
  return unit === "percent" ? value.toFixed(0) + " %" : format(value, unit);
}

// Draws avg as a line (broken across gaps) over a faint min..max band, one colour per series.
function renderChart(spec, lines, fromMs, toMs) {
  var W = 320, H = 130, left = 52, right = 6, top = 8, bottom = 18;
  var card = el("div", { "class": "card", "data-chart": spec.id });
  card.appendChild(el("h3", null, spec.title));
  var svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img" });
  var maxValue = 0;
  lines.forEach(function (line) {
    line.points.forEach(function (p) { if (p.max > maxValue) maxValue = p.max; });
  });
  var yMax = spec.unit === "percent" ? Math.max(100, niceMax(maxValue, "")) : niceMax(maxValue, spec.unit);
  var span = Math.max(1, toMs - fromMs), stepMs = STEP_SECS * 1000;
  function x(t) { return (left + (t - fromMs) / span * (W - left - right)).toFixed(1); }
  function y(v) { return (top + (1 - v / yMax) * (H - top - bottom)).toFixed(1); }
  [0, 0.5, 1].forEach(function (f) {
    svg.appendChild(svgEl("line", { "class": "grid", x1: left, x2: W - right, y1: y(yMax * f), y2: y(yMax * f) }));
    var label = svgEl("text", { "class": "axis", x: left - 4, y: Number(y(yMax * f)) + 3, "text-anchor": "end" });
    label.textContent = axisLabel(yMax * f, spec.unit);
    svg.appendChild(label);
  });
  [[fromMs, "start"], [toMs, "end"]].forEach(function (tick) {
    var label = svgEl("text", { "class": "axis", x: x(tick[0]), y: H - 4, "text-anchor": tick[1] });
    label.textContent = clock(tick[0]);
    svg.appendChild(label);
  });
  var legend = el("div", { "class": "legend" });
  lines.forEach(function (line, i) {
    var color = COLORS[i % COLORS.length], d = "", band = "", prev = null, run = [];
    function closeBand() {
      if (run.length > 0) {
        band += "M" + run.map(function (p) { return x(p.t) + "," + y(p.max); }).join("L") +
          "L" + run.slice().reverse().map(function (p) { return x(p.t) + "," + y(p.min); }).join("L") + "Z";
      }
      run = [];
    }
    line.points.forEach(function (p) {
      var gap = prev === null || p.t - prev > 1.5 * stepMs;
      if (gap) closeBand();
      d += (gap ? "M" : "L") + x(p.t) + "," + y(p.avg);
      run.push(p);
      prev = p.t;
    });
    closeBand();
    if (band) svg.appendChild(svgEl("path", { d: band, fill: color, "fill-opacity": "0.12", stroke: "none" }));
    if (d) svg.appendChild(svgEl("path", { "class": "series", d: d, fill: "none", stroke: color, "stroke-width": "1.5" }));
    var key = el("span");
    var swatch = el("i");
    swatch.style.background = color;
    key.appendChild(swatch);
    key.appendChild(document.createTextNode(line.name));
    legend.appendChild(key);
  });
  if (lines.length === 0) {
    var none = svgEl("text", { "class": "nodata", x: W / 2, y: H / 2, "text-anchor": "middle" });
    none.textContent = "no data in the last hour";
    svg.appendChild(none);
  }
  card.appendChild(svg);
  card.appendChild(legend);
  return card;
}

function loadChart(spec, agentId) {
  return Promise.all(spec.metrics.map(function (metric) {
    return getJson("/api/v1/metrics?agent=" + encodeURIComponent(agentId) +
      "&metric=" + encodeURIComponent(metric) + "&step=" + STEP_SECS);
  })).then(function (answers) {
    var lines = [];
    answers.forEach(function (answer) {
      answer.series.forEach(function (series) {
        var suffix = spec.metrics.length > 1 ? series.metric.split(".").pop() : "";
        var name = [labelText(series.labels), suffix].filter(Boolean).join(" ") || series.metric;
        lines.push({ name: name, points: series.points.map(function (p) {
          return { t: Date.parse(p.timestamp), avg: p.avg, min: p.min, max: p.max };
        }) });
      });
    });
    return renderChart(spec, lines, Date.parse(answers[0].from), Date.parse(answers[0].to));
  });
}

function renderLatest(latest) {
  var body = document.querySelector("#latest tbody");
  body.textContent = "";
  latest.series.forEach(function (s) {
    var row = el("tr");
    row.appendChild(el("td", null, s.metric));
    row.appendChild(el("td", { "class": "labels" }, labelText(s.labels)));
    row.appendChild(el("td", { "class": "num" }, format(s.value, s.unit)));
    row.appendChild(el("td", { "class": "when" }, ago(s.timestamp)));
    body.appendChild(row);
  });
}

function renderAgent(agent) {
  document.getElementById("agent-title").textContent = agent.agent_id + " — " + agent.status;
  var info = agent.system_info;
  document.getElementById("sysinfo").textContent = info
    ? [info.hostname, info.os + " " + info.os_version, info.arch, "kernel " + info.kernel_version,
       info.cpu_cores + " cores", info.memory_gb.toFixed(1) + " GB memory",
       info.disk_gb.toFixed(0) + " GB disk"].join(" · ")
    : "first seen " + new Date(agent.first_seen).toLocaleString();
}

// Alerts come from the alert engine's routes; a server without them simply shows no panel.
function renderAlerts(answer) {
  var box = document.getElementById("alerts");
  var list = box.querySelector("ul");
  var alerts = (answer && answer.alerts) || [];
  list.textContent = "";
  alerts.forEach(function (alert) {
    var item = el("li", { "data-rule": alert.rule, "data-agent": alert.agent_id });
    item.appendChild(el("span", { "class": "sev " + alert.severity }, alert.severity));
    item.appendChild(el("span", {}, alert.message));
    item.appendChild(el("span", { "class": "since" }, "since " + ago(alert.since)));
    list.appendChild(item);
  });
  box.style.display = alerts.length ? "block" : "none";
}

function refresh() {
  getJson("/api/v1/alerts/active").then(renderAlerts, function () { renderAlerts(null); });
  var mine = ++generation;
  Promise.all([getJson("/api/v1/health"), getJson("/api/v1/agents")]).then(function (answers) {
    var health = answers[0], agents = answers[1].agents;
    if (mine !== generation) return;
    document.getElementById("meta").textContent = "v" + health.version + " · " +
      health.agent_count + " agents · storage " + health.storage_status + " · updated " +
      new Date().toLocaleTimeString();
    var ids = agents.map(function (a) { return a.agent_id; });
    if (ids.indexOf(selected) < 0) selected = ids.length ? ids[0] : "";
    renderAgents(agents);
    if (!selected) return;
    var agent = agents[ids.indexOf(selected)];
    renderAgent(agent);
    return Promise.all([getJson("/api/v1/agents/" + encodeURIComponent(selected) + "/latest")]
      .concat(CHARTS.map(function (spec) { return loadChart(spec, selected); })))
      .then(function (parts) {
        if (mine !== generation) return;
        renderLatest(parts[0]);
        var charts = document.getElementById("charts");
        charts.textContent = "";
        charts.setAttribute("data-agent", agent.agent_id);
        parts.slice(1).forEach(function (card) { charts.appendChild(card); });
      });
  }).then(function () {
    if (mine === generation) showError("");
  }, function (error) {
    if (mine === generation) showError("Cannot refresh: " + error.message);
  });
}

refresh();
setInterval(refresh, REFRESH_MS);
</script>
</body>
</html>
`;
