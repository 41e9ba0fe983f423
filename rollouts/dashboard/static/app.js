// The dashboard page: plain JS, no build step, no CDN. Two views chosen by the URL hash
// (#/ overview, #/rollout/NS/NAME detail), each fed by a server-sent-events stream (EventSource
// on .../info/watch: one whole view per change) and redrawn only when the view changed.
// Data is inserted with textContent, never as HTML, so an object name cannot inject markup.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let lastText = null;
let held = null; // the newest view received, drawn or waiting (the base "rows" events patch)
let pendingText = null; // a view that arrived while the confirmation dialog was open
let source = null;
let session = null; // {auth, user, csrfToken} from /api/v1/session
let filters = { namespace: "", search: "" };

function el(tag, attrs, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "onclick" || key === "oninput" || key === "onchange") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function badge(status, extra) {
  return el("span", { class: `badge ${status || "Pending"} ${extra || ""}`.trim() }, status || "Pending");
}

function banner(message, kind) {
  const box = document.getElementById("banner");
  box.hidden = !message;
  box.className = kind === "note" ? "banner note" : "banner";
  box.textContent = message || "";
}

async function api(path, options) {
  const headers = { ...((options && options.headers) || {}) };
  if (options && options.method && options.method !== "GET" && session) headers["X-CSRF-Token"] = session.csrfToken;
  const response = await fetch(path, { credentials: "same-origin", ...options, headers });
  let payload = null;
  try {
    payload = await response.json();
  } catch (error) {
    payload = { error: `${response.status} ${response.statusText}` };
  }
  if (!response.ok) {
    const problem = new Error(payload.error || `${response.status}`);
    problem.status = response.status;
    problem.auth = payload.auth;
    throw problem;
  }
  return payload;
}

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "rollout" && parts.length === 3) return { view: "detail", namespace: parts[1], name: parts[2] };
  return { view: "overview" };
}

// -- ages, as kubectl prints them (rollouts/plugin/ages.py: 45s, 7m5s, 3h, 12d); the streamed
// overview leaves them to the page so that a row changes only when its rollout does
function humanDuration(seconds) {
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const pair = (big, bigUnit, small, smallUnit) => (small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`);
  if (minutes < 10) return pair(minutes, "m", seconds % 60, "s");
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return pair(hours, "h", minutes % 60, "m");
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return pair(days, "d", hours % 24, "h");
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return pair(years, "y", days % 365, "d");
  return `${years}y`;
}

function ageOf(created) {
  const moment = Date.parse(created || "");
  return Number.isNaN(moment) ? "<unknown>" : humanDuration(Math.floor((Date.now() - moment) / 1000));
}

function refreshAges() {
  for (const cell of document.querySelectorAll("td.age[data-created]")) {
    if (cell.dataset.created) cell.textContent = ageOf(cell.dataset.created);
  }
}
setInterval(refreshAges, 5000);

// -- overview
function overviewRows(data) {
  const needle = filters.search.trim().toLowerCase();
  return data.rollouts.filter(
    (row) =>
      (!filters.namespace || row.namespace === filters.namespace) &&
      (!needle || row.name.toLowerCase().includes(needle) || row.images.some((i) => i.image.includes(needle)))
  );
}

function renderOverview(view, data) {
  let table = view.querySelector("tbody");
  if (!table) {
    const namespaces = el("select", {
      id: "namespace-filter",
      onchange: (event) => { filters.namespace = event.target.value; renderOverview(view, view.data); },
    });
    const search = el("input", {
      id: "search", type: "search", placeholder: "Search name or image",
      oninput: (event) => { filters.search = event.target.value; renderOverview(view, view.data); },
    });
    search.value = filters.search;
    view.replaceChildren(
      el("div", { class: "filters" }, namespaces, search),
      el("table", { id: "rollouts" },
        el("thead", {}, el("tr", {}, ["Name", "Namespace", "Strategy", "Status", "Step", "Weight (set/actual)",
          "Pods ready/desired", "Images", "Age"].map((h) => el("th", {}, h)))),
        el("tbody")),
      el("p", { class: "muted", id: "count" })
    );
    table = view.querySelector("tbody");
  }
  view.data = data;
  const select = view.querySelector("#namespace-filter");
  const options = ["", ...data.namespaces];
  if (select.options.length !== options.length || [...select.options].some((o, i) => o.value !== options[i])) {
    select.replaceChildren(...options.map((ns) => el("option", { value: ns }, ns || "All namespaces")));
  }
  select.value = filters.namespace;
  const rows = overviewRows(data);
  table.replaceChildren(
    ...rows.map((row) =>
      el("tr", {
        class: "link", "data-name": row.name,
        onclick: () => { location.hash = `#/rollout/${encodeURIComponent(row.namespace)}/${encodeURIComponent(row.name)}`; },
      },
        el("td", {}, el("a", { href: `#/rollout/${encodeURIComponent(row.namespace)}/${encodeURIComponent(row.name)}` }, row.name)),
        el("td", {}, row.namespace),
        el("td", {}, row.strategy),
        el("td", {}, badge(row.status)),
        el("td", {}, row.step || "-"),
        el("td", {}, row.strategy === "Canary" ? `${row.setWeight}/${row.actualWeight}` : "-"),
        el("td", {}, `${row.replicas.ready}/${row.replicas.desired}`),
        el("td", { class: "images" }, row.images.map((i) => el("div", {}, i.image + (i.roles.length ? ` (${i.roles.join(", ")})` : "")))),
        el("td", { class: "age", "data-created": row.created || "" }, row.age || ageOf(row.created))
      )
    )
  );
  view.querySelector("#count").textContent =
    rows.length === data.rollouts.length ? `${rows.length} rollouts` : `${rows.length} of ${data.rollouts.length} rollouts`;
}

// -- detail
const ACTIONS = [
  { action: "promote", label: "Promote", body: { full: false }, when: (d) => ["Paused", "Progressing"].includes(d.status) },
  { action: "promote", label: "Promote full", id: "promote-full", body: { full: true }, when: (d) => ["Paused", "Progressing", "Degraded"].includes(d.status) },
  { action: "abort", label: "Abort", danger: true, when: (d) => ["Paused", "Progressing"].includes(d.status) },
  { action: "retry", label: "Retry", when: (d) => d.aborted || d.status === "Degraded" },
  { action: "pause", label: "Pause", when: (d) => !d.paused },
  { action: "resume", label: "Resume", when: (d) => d.paused || d.status === "Paused" },
  { action: "restart", label: "Restart", when: () => true },
];

function confirmThen(text, run) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  dialog.returnValue = "";
  dialog.onclose = () => { if (dialog.returnValue === "ok") run(); };
  dialog.showModal();
}

function act(detail, action, body, suffix) {
  const path = `/api/v1/rollouts/${encodeURIComponent(detail.namespace)}/${encodeURIComponent(detail.name)}/${action}${suffix || ""}`;
  api(path, { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body || {}) })
    .then((result) => banner(result.message, "note"))
    .catch((error) => banner(`${action} failed: ${error.message}`));
}

function summary(detail) {
  const rows = [
    ["Strategy", detail.strategy],
    ["Step", detail.step || "-"],
    ["Set weight", detail.setWeight || "-"],
    ["Actual weight", detail.actualWeight || "-"],
    ["Pods", `${detail.replicas.ready} ready / ${detail.replicas.desired} desired (${detail.replicas.updated} updated, ${detail.replicas.available} available)`],
    ["Traffic", trafficText(detail.traffic)],
    ["Images", detail.images.map((i) => i.image + (i.roles.length ? ` (${i.roles.join(", ")})` : "")).join("\n") || "-"],
    ["Age", detail.age],
  ];
  return el("section", { class: "panel" }, el("h2", {}, "Summary"),
    el("dl", { class: "summary" }, rows.map(([k, v]) => [el("dt", {}, k), el("dd", { class: k === "Images" ? "images" : "" }, v)])));
}

function trafficText(traffic) {
  if (!traffic.routers.length) return "replica counts (no traffic router)";
  const routers = traffic.routers.join(", ");
  if (!traffic.weights) return `${routers}: no weights applied yet`;
  const parts = [`canary ${traffic.weights.canary.weight}`, `stable ${traffic.weights.stable.weight}`,
    ...traffic.weights.additional.map((a) => `${a.serviceName} ${a.weight}`)];
  return `${routers}: ${parts.join(", ")} (of ${traffic.maxWeight})`;
}

function eventsPanel(detail) {
  if (!detail.events.length) return null;
  return el("section", { class: "panel", id: "events" }, el("h2", {}, "Recent events"),
    el("table", {}, el("tbody", {}, detail.events.map((e) =>
      el("tr", { class: e.type === "Warning" ? "warning" : "" },
        el("td", {}, e.age), el("td", {}, e.type), el("td", {}, e.reason),
        el("td", {}, e.message + (e.count > 1 ? ` (×${e.count})` : "")))))));
}

function stepsPanel(detail) {
  if (!detail.steps.length) return null;
  return el("section", { class: "panel" }, el("h2", {}, "Steps"),
    el("ol", { class: "steps", id: "steps" }, detail.steps.map((step) =>
      el("li", { class: `${step.state} ${step.kind}`, "data-state": step.state },
        `${step.index + 1}. ${step.text}`, el("span", { class: "kind" }, step.state === "current" ? "current" : "")))));
}

function treeNode(detail, node) {
  const label = [];
  if (node.kind === "Revision") {
    const number = node.name.split(":")[1];
    label.push(el("span", { class: "revision" }, `Revision ${number}`));
    const current = node.children.some((child) => (child.info || []).some((tag) => ["stable", "canary", "active"].includes(tag)));
    if (!current && number !== "0" && number !== String(detail.revision)) {
      label.push(" ", el("button", {
        class: "small", "data-revision": number, onclick: () => confirmThen(`Roll ${detail.name} back to revision ${number}?`, () => act(detail, "undo", {}, `/${number}`)),
      }, "Rollback"));
    }
  } else {
    label.push(el("span", {}, node.name), el("span", { class: "node-kind" }, node.kind));
    if (node.status) label.push(badge(node.status, node.kind === "Pod" ? "pod" : ""));
    if (node.info && node.info.length) label.push(el("span", { class: "node-info" }, node.info.join(", ")));
  }
  return el("li", {}, label, node.children.length ? el("ul", { class: "tree" }, node.children.map((c) => treeNode(detail, c))) : null);
}

function chart(metric) {
  const points = metric.measurements.filter((m) => m.number !== null);
  const width = 480, height = 140, pad = 24;
  const svg = el("svg:svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, "data-metric": metric.name });
  if (!points.length) {
    svg.append(el("svg:text", { x: pad, y: height / 2 }, "no numeric measurements yet"));
    return svg;
  }
  const values = points.map((m) => m.number);
  let low = Math.min(...values), high = Math.max(...values);
  if (low === high) { low -= 1; high += 1; }
  const x = (i) => pad + (points.length === 1 ? (width - 2 * pad) / 2 : (i * (width - 2 * pad)) / (points.length - 1));
  const y = (v) => height - pad - ((v - low) * (height - 2 * pad)) / (high - low);
  svg.append(el("svg:polyline", { class: "line", points: points.map((m, i) => `${x(i)},${y(m.number)}`).join(" ") }));
  points.forEach((m, i) => {
    const dot = el("svg:circle", { class: m.phase, cx: x(i), cy: y(m.number), r: 4 });
    dot.append(el("svg:title", {}, `${m.value} ${m.phase} ${m.finishedAt || m.startedAt}`));
    svg.append(dot);
  });
  svg.append(el("svg:text", { x: 2, y: pad - 6 }, String(high)), el("svg:text", { x: 2, y: height - 6 }, String(low)));
  return svg;
}

function analysisPanel(detail) {
  if (!detail.analysisRuns.length) return null;
  return el("section", { class: "panel", id: "analysis" }, el("h2", {}, "Analysis runs"),
    detail.analysisRuns.map((run) => el("div", { class: "run" },
      el("div", {}, el("strong", {}, run.name), " ", badge(run.phase), run.message ? el("span", { class: "node-info" }, run.message) : null),
      run.metrics.map((metric) => el("div", { class: "metric" },
        el("h3", {}, metric.name, " ", badge(metric.phase)),
        metric.successCondition ? el("div", { class: "condition" }, `success: ${metric.successCondition}`) : null,
        metric.failureCondition ? el("div", { class: "condition" }, `failure: ${metric.failureCondition}`) : null,
        chart(metric),
        el("div", { class: "node-info" }, metric.measurements.map((m) => `${m.value || "—"} (${m.phase})`).join(" · ") || "no measurements"))))));
}

function renderDetail(view, detail) {
  const buttons = ACTIONS.filter((a) => a.when(detail)).map((a) =>
    el("button", {
      id: a.id || a.action, class: a.danger ? "danger" : "",
      onclick: () => confirmThen(`${a.label} rollout ${detail.namespace}/${detail.name}?`, () => act(detail, a.action, a.body)),
    }, a.label));
  const sections = [
    el("div", { class: "head" },
      el("a", { href: "#/" }, "← all rollouts"),
      el("h1", { id: "rollout-name" }, detail.name), el("span", { class: "muted" }, detail.namespace),
      badge(detail.status), detail.message ? el("span", { class: "muted" }, detail.message) : null,
      el("div", { class: "actions" }, buttons)),
    el("div", { class: "grid" }, summary(detail), stepsPanel(detail)),
    el("section", { class: "panel" }, el("h2", {}, "Revisions"), el("ul", { class: "tree", id: "revisions" }, detail.tree.children.map((n) => treeNode(detail, n)))),
    analysisPanel(detail),
    eventsPanel(detail),
  ];
  view.replaceChildren(...sections.filter(Boolean));
}

// -- live: one EventSource per view; the browser reconnects by itself after a drop
function viewPath(where) {
  return where.view === "detail"
    ? `/api/v1/rollouts/${encodeURIComponent(where.namespace)}/${encodeURIComponent(where.name)}/info`
    : "/api/v1/rollouts/info";
}

function liveState(state) {
  const live = document.getElementById("live");
  live.dataset.state = state;
  live.classList.toggle("stale", state !== "open");
}

function draw(text) {
  if (text === lastText) return;
  held = JSON.parse(text);
  if (document.getElementById("confirm").open) { pendingText = text; return; }
  lastText = text;
  drawView(held);
}

// an overview update with only the rows that changed: applied to the rows held, then drawn
function applyRows(delta) {
  if (!held || !Array.isArray(held.rollouts)) return;
  const key = (row) => `${row.namespace}/${row.name}`;
  const rows = new Map(held.rollouts.map((row) => [key(row), row]));
  for (const [namespace, name] of delta.remove) rows.delete(`${namespace}/${name}`);
  for (const row of delta.upsert) rows.set(key(row), row);
  const sorted = [...rows.values()].sort((a, b) =>
    a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : (a.namespace < b.namespace ? -1 : 1));
  draw(JSON.stringify({ ...held, rollouts: sorted, namespaces: delta.namespaces }));
}

function drawView(data) {
  const where = route();
  const view = document.getElementById("view");
  if (where.view === "detail") renderDetail(view, data);
  else renderOverview(view, data);
  document.title = where.view === "detail" ? `${data.name} · Rollouts` : "Rollouts";
}

function connect() {
  if (source) source.close();
  const where = route();
  const opened = new EventSource(`${viewPath(where)}/watch`);
  source = opened;
  window.liveMessages = 0; // for the tests: what came over this stream
  window.liveRowUpdates = 0;
  liveState("connecting");
  opened.onopen = () => liveState("open");
  opened.onmessage = (event) => {
    if (source !== opened) return;
    window.liveMessages += 1;
    liveState("open");
    if (document.getElementById("banner").className === "banner") banner("");
    draw(event.data);
  };
  opened.addEventListener("rows", (event) => {
    if (source !== opened) return;
    window.liveMessages += 1;
    window.liveRowUpdates += 1;
    applyRows(JSON.parse(event.data));
  });
  opened.addEventListener("failure", (event) => banner(JSON.parse(event.data).error));
  opened.onerror = () => {
    if (source !== opened) return;
    liveState(opened.readyState === EventSource.CLOSED ? "closed" : "connecting");
    if (opened.readyState === EventSource.CLOSED) explainClosed(where, opened);
  };
}

// a stream refused with 4xx is closed for good by the browser: ask once more to learn why
async function explainClosed(where, opened) {
  try {
    await api(viewPath(where));
    setTimeout(() => { if (source === opened) connect(); }, 2000);
  } catch (error) {
    if (error.status === 401) return signIn(error);
    banner(error.message);
  }
}

function signIn(error) {
  if (source) source.close();
  liveState("closed");
  document.getElementById("view").replaceChildren();
  if (error.auth === "kubernetes" || error.auth === "token") {
    document.getElementById("login").hidden = false;
    banner(error.auth === "token"
      ? "Not signed in: open the URL (with its token) printed by `kubectl rollouts dashboard`, or paste the token."
      : `Not signed in: ${error.message}`);
  } else banner(error.message);
}

async function start() {
  lastText = null;
  held = null;
  pendingText = null;
  banner("");
  document.getElementById("view").replaceChildren(el("p", { class: "muted" }, "Loading…"));
  try {
    session = await api("/api/v1/session");
  } catch (error) {
    if (error.status === 401) return signIn(error);
    return banner(error.message);
  }
  document.getElementById("login").hidden = true;
  document.getElementById("user").textContent = session.user ? `signed in as ${session.user}` : "";
  document.getElementById("sign-out").hidden = session.auth !== "kubernetes";
  connect();
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = document.getElementById("login-token").value.trim();
  api("/api/v1/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token }) })
    .then(() => { document.getElementById("login-token").value = ""; start(); })
    .catch((error) => banner(`sign-in failed: ${error.message}`));
});
document.getElementById("sign-out").addEventListener("click", () => {
  api("/api/v1/logout", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })
    .finally(() => { session = null; start(); });
});
document.getElementById("confirm").addEventListener("close", () => {
  if (pendingText !== null) { const text = pendingText; pendingText = null; draw(text); }
});
window.addEventListener("hashchange", () => {
  lastText = null;
  held = null;
  pendingText = null;
  document.getElementById("view").replaceChildren(el("p", { class: "muted" }, "Loading…"));
  if (session) connect();
});
document.addEventListener("DOMContentLoaded", start);
