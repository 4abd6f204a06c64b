// The embedstore page: every number on it comes from the /v1 API of the same server.
"use strict";

const $ = (id) => document.getElementById(id);

async function api(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    for (const one of [].concat(value)) {
      if (one !== undefined && one !== null && one !== "") query.append(key, one);
    }
  }
  const response = await fetch(`/v1${path}${query.size ? "?" + query : ""}`);
  const body = await response.json();
  if (!response.ok) {
    const hint = body.suggestions && body.suggestions.length
      ? ` (did you mean ${body.suggestions.join(", ")}?)` : "";
    throw new Error(`${body.error}${hint}`);
  }
  return body;
}

function model() { return $("model").value; }
function version() { return $("version").value; }

function fill(tableId, rows) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    cells.forEach((cell, i) => {
      const td = document.createElement("td");
      td.textContent = cell;
      if (i === 1) td.className = "score";
      tr.append(td);
    });
    return tr;
  }));
}

function option(value, label) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label;
  return element;
}

async function loadModels() {
  const { models } = await api("/models");
  $("model").replaceChildren(...models.map((m) => option(m.model, m.model)));
  if (!models.length) $("status").textContent = "The store holds no model yet.";
  await loadVersions();
}

async function loadVersions() {
  if (!model()) return;
  const versions = await api(`/models/${encodeURIComponent(model())}/versions`);
  const choices = [option("", "latest")];
  for (const record of versions.slice().reverse()) {
    const names = record.aliases.length ? ` (${record.aliases.join(", ")})` : "";
    choices.push(option(String(record.version), `${record.version}${names}`));
  }
  $("version").replaceChildren(...choices);
  await loadMetadata();
}

async function loadMetadata() {
  const ref = version() || String(Math.max(0, ...[...$("version").options]
    .map((o) => Number(o.value) || 0)));
  const record = await api(`/models/${encodeURIComponent(model())}/versions/${ref}`);
  const shown = {
    version: record.version, name: record.name || "-", created: record.created,
    items: record.n_items, dimension: record.dim, origin: record.origin,
    source: record.source ? record.source.path : "-",
    method: record.settings ? record.settings.method : "-",
    aliases: record.aliases.join(", ") || "-",
  };
  $("metadata").replaceChildren(...Object.entries(shown).flatMap(([key, value]) => {
    const dt = document.createElement("dt");
    dt.textContent = key;
    const dd = document.createElement("dd");
    dd.textContent = value;
    return [dt, dd];
  }));
  fill("evaluations", record.evaluations.map((e) => [
    e.kind, e.created.slice(0, 19).replace("T", " "), summary(e.result)]));
}

function summary(result) {
  if (result.accuracy !== undefined && result.accuracy !== null) {
    return `accuracy ${result.accuracy.toFixed(4)} (${result.correct}/${result.scored})`;
  }
  if (result.spearman !== undefined && result.spearman !== null) {
    return `spearman ${result.spearman.toFixed(4)} over ${result.pairs} pairs`;
  }
  return JSON.stringify(result);
}

let completionTimer = null;
function complete(event) {
  const prefix = event.target.value.split(",").pop().trim();
  clearTimeout(completionTimer);
  if (!prefix || !model()) return;
  completionTimer = setTimeout(async () => {
    try {
      const { items } = await api(`/models/${encodeURIComponent(model())}/items`,
        { prefix, limit: 10, version: version() });
      $("completions").replaceChildren(...items.map((item) => option(item, item)));
    } catch (error) { /* completion is a convenience: stay quiet */ }
  }, 150);
}

async function similar(event) {
  event.preventDefault();
  $("similar-error").textContent = "";
  const items = $("item").value.split(",").map((s) => s.trim()).filter(Boolean);
  const minus = $("minus").value.split(",").map((s) => s.trim()).filter(Boolean);
  try {
    const answer = await api(`/models/${encodeURIComponent(model())}/similar`,
      { item: items, minus, k: $("k").value, version: version() });
    fill("neighbours", answer.results.map((r) => [r.item, r.score.toFixed(4)]));
    $("status").textContent = `answered by ${answer.model} version ${answer.version}`;
  } catch (error) {
    fill("neighbours", []);
    $("similar-error").textContent = error.message;
    $("map").replaceChildren();
    $("map-caption").textContent = "";
    return;
  }
  await showMap(items[0]);
}

// The neighbourhood map: GET /v1/models/{model}/map (what `embed plot --json` prints), drawn
// as inline SVG. x and y lie in [-1, 1]; y points up, as on the plots embed plot draws.
const SVG = "http://www.w3.org/2000/svg";
const MAP_NEIGHBOURS = 50;
const MAP_SIZE = { width: 640, height: 480, margin: 48 };
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
  "#7f7f7f", "#bcbd22", "#17becf"];

function svgElement(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

async function showMap(item) {
  $("map-error").textContent = "";
  try {
    const map = await api(`/models/${encodeURIComponent(model())}/map`,
      { around: item, k: MAP_NEIGHBOURS, version: version() });
    const svg = drawMap(map);
    $("map").replaceChildren(svg);
    placeLabels(svg);
    $("map-caption").textContent = `${map.around} and its ${map.points.length - 1} nearest ` +
      `neighbours in ${map.model} version ${map.version} (${map.method.toUpperCase()}, ` +
      `coloured by ${map.grouping})`;
  } catch (error) {
    $("map").replaceChildren();
    $("map-error").textContent = error.message;
  }
}

function drawMap(map) {
  const { width, height, margin } = MAP_SIZE;
  const scale = Math.min(width, height) / 2 - margin;
  const svg = svgElement("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `map of the neighbourhood of ${map.around}` });
  svg.append(svgElement("title", {}, `neighbourhood of ${map.around}`));
  map.points.forEach((point, i) => {
    const x = width / 2 + point.x * scale;
    const y = height / 2 - point.y * scale;
    const colour = point.group === null
      ? "#999" : COLOURS[map.groups.indexOf(point.group) % COLOURS.length];
    const centre = i === 0;
    const group = svgElement("g",
      { class: centre ? "point centre" : "point", "data-item": point.item });
    group.append(svgElement("title", {},
      point.group ? `${point.item} (${point.group})` : point.item));
    if (centre) {
      group.append(svgElement("circle", { cx: x, cy: y, r: 9, fill: "none", stroke: "#222" }));
    }
    group.append(svgElement("circle", { cx: x, cy: y, r: centre ? 5 : 3.5, fill: colour }));
    group.append(svgElement("text", { x: x + 7, y, "dominant-baseline": "central",
      "data-x": x, "data-y": y, "data-r": centre ? 9 : 3.5 }, point.item));
    svg.append(group);
  });
  return svg;
}

// Names on the map, placed once the map is in the page (their sizes are measured there), in
// the points' order: beside the dot where there is room, else further out with a leader line
// (one that crosses no name, where there is such a place); dots that coincide get one joint
// name ("cat, dog, kitten, puppy"). No name overlaps another name or a dot. The same rules
// as embed plot's pictures (embedstore/plot/placement.py).
const RING_STEP = 11;
const RING_ANGLES = 24;

function placeLabels(svg) {
  const { width, height } = MAP_SIZE;
  const texts = [...svg.querySelectorAll("g.point text")];
  const dots = texts.map((t) => ({ x: Number(t.dataset.x), y: Number(t.dataset.y),
    r: Number(t.dataset.r) }));
  const taken = dots.map((d) => [d.x - d.r, d.y - d.r, d.x + d.r, d.y + d.r]);
  const names = [];
  const leaders = svgElement("g", { class: "leaders" });
  svg.insertBefore(leaders, svg.querySelector("g.point"));
  texts.forEach((text, i) => {
    const first = dots.findIndex((d, j) => j < i && texts[j].isConnected &&
      Math.hypot(d.x - dots[i].x, d.y - dots[i].y) < 1);
    if (first >= 0) {
      texts[first].textContent += `, ${text.textContent}`;
      text.remove();
    }
  });
  texts.forEach((text, i) => {
    if (!text.isConnected) return;
    const box = text.getBBox();
    const others = taken.filter((_, j) => j !== i);
    const fits = (c) => c.box[0] >= 0 && c.box[1] >= 0 && c.box[2] <= width &&
      c.box[3] <= height && !others.some((o) => overlap(o, c.box));
    const spots = labelSpots(dots[i], box.width, box.height, Math.max(width, height));
    const free = spots.filter(fits);
    const spot = free.find((c) => !c.leader || !names.some((n) => crosses(c.leader, n))) ||
      free[0];
    if (!spot) { text.remove(); return; }
    text.setAttribute("x", spot.x);
    text.setAttribute("y", spot.y);
    text.setAttribute("text-anchor", spot.anchor);
    if (spot.leader) {
      const [x1, y1, x2, y2] = spot.leader;
      leaders.append(svgElement("line", { x1, y1, x2, y2, stroke: "#9a9a9a",
        "stroke-width": 0.7 }));
    }
    taken.push(spot.box);
    names.push(spot.box);
  });
}

function labelSpots(dot, w, h, reach) {
  const spot = (x, y, anchor, leader) => {
    const left = anchor === "start" ? x : anchor === "end" ? x - w : x - w / 2;
    return { x, y, anchor, leader, box: [left, y - h / 2, left + w, y + h / 2] };
  };
  const near = dot.r + 2;
  const spots = [spot(dot.x + near, dot.y, "start"), spot(dot.x - near, dot.y, "end"),
    spot(dot.x, dot.y - near - h / 2, "middle"), spot(dot.x, dot.y + near + h / 2, "middle"),
    spot(dot.x + near * 0.7, dot.y - dot.r * 0.7 - h / 2, "start"),
    spot(dot.x + near * 0.7, dot.y + dot.r * 0.7 + h / 2, "start"),
    spot(dot.x - near * 0.7, dot.y - dot.r * 0.7 - h / 2, "end"),
    spot(dot.x - near * 0.7, dot.y + dot.r * 0.7 + h / 2, "end")];
  const angles = [...Array(RING_ANGLES).keys()].map((k) => (2 * Math.PI * k) / RING_ANGLES)
    .sort((a, b) => Math.abs(Math.sin(a)) - Math.abs(Math.sin(b)) || Math.cos(b) - Math.cos(a));
  for (let distance = near + RING_STEP; distance <= reach; distance += RING_STEP) {
    for (const angle of angles) {
      const dx = Math.cos(angle);
      const dy = -Math.sin(angle);
      const x = dot.x + distance * dx;
      const y = dot.y + distance * dy;
      const leader = [dot.x + dot.r * dx, dot.y + dot.r * dy, x, y];
      if (Math.abs(dx) > 0.35) spots.push(spot(x, y, dx > 0 ? "start" : "end", leader));
      else spots.push(spot(x, y + (dy > 0 ? h / 2 : -h / 2), "middle", leader));
    }
  }
  return spots;
}

function overlap(a, b) {
  return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
}

// Whether the segment [x1, y1, x2, y2] passes through the box [left, top, right, bottom].
function crosses([x1, y1, x2, y2], [left, top, right, bottom]) {
  let low = 0;
  let high = 1;
  for (const [delta, start, lower, upper] of [[x2 - x1, x1, left, right],
    [y2 - y1, y1, top, bottom]]) {
    if (Math.abs(delta) < 1e-9) {
      if (start <= lower || start >= upper) return false;
    } else {
      const a = (lower - start) / delta;
      const b = (upper - start) / delta;
      low = Math.max(low, Math.min(a, b));
      high = Math.min(high, Math.max(a, b));
    }
  }
  return low < high;
}

async function analogy(event) {
  event.preventDefault();
  $("analogy-error").textContent = "";
  try {
    const answer = await api(`/models/${encodeURIComponent(model())}/analogy`, {
      a: $("a").value.trim(), b: $("b").value.trim(), c: $("c").value.trim(),
      method: $("method").value, k: $("k").value, version: version(),
    });
    fill("analogies", answer.results.map((r) => [r.item, r.score.toFixed(4)]));
    $("status").textContent = `answered by ${answer.model} version ${answer.version}`;
  } catch (error) {
    fill("analogies", []);
    $("analogy-error").textContent = error.message;
  }
}

$("model").addEventListener("change", () => loadVersions().catch(showError));
$("version").addEventListener("change", () => loadMetadata().catch(showError));
for (const id of ["item", "a", "b", "c"]) $(id).addEventListener("input", complete);
$("similar-form").addEventListener("submit", similar);
$("analogy-form").addEventListener("submit", analogy);

function showError(error) { $("status").textContent = error.message; }
loadModels().catch(showError);
