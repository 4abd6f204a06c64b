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
    $("map").replaceChildren(drawMap(map));
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
    group.append(svgElement("text", { x: x + 7, y: y + 4 }, point.item));
    svg.append(group);
  });
  return svg;
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
