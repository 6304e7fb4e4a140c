// shoes studio: the page's behaviour. Plain JS, no build step: tabs from /api/state, one POST /api/<action> per
// click, results and the history strip drawn from the JSON answers. window.studioTimings keeps click-to-image
// times (benchmarks/studio_latency.py reads them).
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const TABS = ["generate", "sketch", "translate", "combine", "edit", "pattern"];
const DOWN_RETRY_MS = 3000;
const MiB = 1 << 20;
const studio = { state: null, tab: null, uploads: {}, reads: 0, keys: {}, sketchCount: 0, sketchUpload: null };
window.studioTimings = [];
window.studioReads = () => studio.reads;  // how many chosen files were read so far (the browser tests wait on it)

function element(tag, properties = {}, children = []) {
  const node = Object.assign(document.createElement(tag), properties);
  for (const child of children) node.append(child);
  return node;
}

// ------------------------------------------------------------------------------------------- the server's state

async function refresh() {
  let delay = DOWN_RETRY_MS;
  try {
    const response = await fetch("/api/state", { cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const state = await response.json();
    show(state);
    if (state.server.up) delay = state.refresh_seconds * 1000;
  } catch (error) {
    showServer(false, "the studio", `The studio itself is not answering (${error.message}). Retrying every ${DOWN_RETRY_MS / 1000} s.`);
  }
  clearTimeout(studio.timer);
  studio.timer = setTimeout(refresh, delay);
}

function showServer(up, target, problem) {
  const badge = $("#server");
  badge.textContent = up ? `models at ${target}` : `no answer from ${target}`;
  badge.className = `server ${up ? "up" : "down"}`;
  const banner = $("#banner");
  banner.hidden = up;
  banner.textContent = up ? "" : problem;
}

function show(state) {
  studio.state = state;
  const server = state.server;
  showServer(server.up, server.target,
    `The model server (${server.target}) is not answering: ${server.message}. ` +
    `The studio retries every ${DOWN_RETRY_MS / 1000} s; start it (shoes-serve or TF Serving) and this page picks it up.`);
  for (const tab of TABS) {
    const models = state.tabs[tab] || [];
    $(`#tab-${tab}`).hidden = models.length === 0;
    const key = JSON.stringify([models.map((name) => state.models[name]), tab === "edit" ? state.edit : null]);
    if (models.length && studio.keys[tab] !== key) {
      studio.keys[tab] = key;
      SETUP[tab](state);
    }
  }
  const visible = TABS.filter((tab) => (state.tabs[tab] || []).length);
  $("#none").hidden = visible.length > 0 || !server.up;
  const missing = $("#missing");
  missing.replaceChildren(...Object.entries(state.missing).map(([name, why]) => element("li", { textContent: `${name}: ${why}` })));
  const absent = Object.keys(state.missing);
  $("#absent").hidden = !server.up || absent.length === 0 || visible.length === 0;
  $("#absent").textContent = `Not served (yet): ${absent.join(", ")}. Their tabs appear when the server has them.`;
  $("#absent").title = Object.entries(state.missing).map(([name, why]) => `${name}: ${why}`).join("\n");
  if (!visible.includes(studio.tab)) select(visible[0] || null);
}

function select(tab) {
  studio.tab = tab;
  for (const name of TABS) {
    $(`#tab-${name}`).setAttribute("aria-selected", String(name === tab));
    $(`#${name}`).hidden = name !== tab;
  }
}

// ----------------------------------------------------------------------------------------------- controls

function fillSelect(select, values, labels = values) {
  const kept = select.value;
  select.replaceChildren(...values.map((value, i) => element("option", { value, textContent: labels[i] })));
  if (values.includes(kept)) select.value = kept;
}

function model(form) {
  return studio.state.models[$("select[name=model]", form).value];
}

function modelSelect(form, names, onChange) {
  const chooser = $("select[name=model]", form);
  fillSelect(chooser, names);
  chooser.closest("label").hidden = names.length < 2;
  chooser.onchange = onChange;
  onChange();
}

// One select per label; a new select starts at the value `first` (0: the vocabulary's first), an existing one keeps its choice.
function labelSelects(container, labels, prefix = "", first = 0) {
  const kept = readLabels(container);
  container.replaceChildren(...Object.entries(labels).map(([name, values]) => {
    const chooser = element("select", { name: `${prefix}label:${name}` });
    fillSelect(chooser, values, values.map((value) => value.replaceAll("_", " ")));
    chooser.value = values.includes(kept[name]) ? kept[name] : values[Math.min(first, values.length - 1)];
    return element("label", {}, [`${name} `, chooser]);
  }));
}

function readLabels(container) {
  const labels = {};
  for (const chooser of $$("select", container)) labels[chooser.name.split("label:")[1]] = chooser.value;
  return labels;
}

function slider(form, name, { min, max, step, value } = {}) {
  const input = $(`input[name=${name}]`, form);
  if (min !== undefined) Object.assign(input, { min, max, step, value });
  const output = input.parentElement.querySelector("output");
  const update = () => { if (output) output.textContent = input.value; };
  input.oninput = update;
  update();
  return input;
}

function whole(input) {
  return Number.parseInt(input.value || "0", 10);
}

function megabytes(bytes) {
  return String(Number((bytes / MiB).toPrecision(3)));
}

// Reads the file chosen in `input` into studio.uploads[key] (the `what` of messages). One over the studio's limit is
// refused unread, with the server's message: a file of gigabytes would hang the tab and could never be sent.
function watchUpload(input, key, what, preview) {
  input.addEventListener("change", () => {
    const file = input.files[0];
    if (!file) return;
    const limit = studio.state ? studio.state.max_upload_mb * MiB : Infinity;
    if (file.size > limit) {
      const refused = `The ${what} ${file.name} is ${megabytes(file.size)} MB; the studio takes images up to ` +
        `${megabytes(limit)} MB (shoes-studio --max-upload-mb). Choose a smaller file.`;
      studio.uploads[key] = { name: file.name, refused };
      studio.reads += 1;
      if (preview) preview.hidden = true;
      const { message } = places(input.closest("form"));
      message.className = "message error";
      message.textContent = refused;
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      studio.uploads[key] = { name: file.name, data: reader.result };
      studio.reads += 1;
      if (preview) { preview.src = reader.result; preview.hidden = false; }
      input.dispatchEvent(new CustomEvent("studio-upload"));
    };
    reader.readAsDataURL(file);
  });
}

// ------------------------------------------------------------------------------------------------ running

class StudioError extends Error {
  constructor(message, status, code = "") { super(message); this.status = status; this.code = code; }
}
// Answers after which the page asks for the models again: the studio or the server down, a model gone or changed
// (a new version that refuses a label the old one took answers INVALID_ARGUMENT).
const STALE = { statuses: [0, 404, 409, 503, 504], codes: ["INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND"] };

async function post(action, settings) {
  let response;
  try {
    response = await fetch(`/api/${action}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(settings) });
  } catch (error) {
    throw new StudioError(`The studio is not answering (${error.message}).`, 0);
  }
  let answer;
  try { answer = await response.json(); } catch { answer = { error: `HTTP ${response.status} ${response.statusText}` }; }
  if (!response.ok) throw new StudioError(answer.error || `HTTP ${response.status}`, response.status, answer.code);
  return answer;
}

// The message and result places of a form, or of its panel where the form has none of its own.
function places(scope) {
  const find = (selector) => $(selector, scope) || $(selector, scope.closest(".panel"));
  return { message: find(".message"), result: find(".result") };
}

// Runs `action` for the form `scope` (its button, message and result). A click while one runs is kept and sent after.
async function run(scope, action, settings) {
  if (scope.busy) { scope.next = [action, settings]; return; }
  const button = $(".go", scope), { message, result } = places(scope);
  scope.busy = true;
  button.disabled = true;
  const started = performance.now();
  message.className = "message busy";
  const tick = setInterval(() => { message.textContent = `Working… ${((performance.now() - started) / 1000).toFixed(1)} s`; }, 100);
  message.textContent = "Working…";
  try {
    const refused = Object.values(settings).flatMap((value) => [value, value?.photo]).find((value) => value?.refused);
    if (refused) throw new StudioError(refused.refused, 413);
    const answer = await post(action, settings);
    await showResult(result, answer);
    const ms = performance.now() - started;
    window.studioTimings.push({ action, ms, server_seconds: answer.seconds, images: answer.images.length });
    message.className = "message";
    message.textContent = `${answer.title} (${(ms / 1000).toFixed(2)} s)`;
    addHistory(answer);
  } catch (error) {
    message.className = "message error";
    message.textContent = error.message;
    if (STALE.statuses.includes(error.status) || STALE.codes.includes(error.code)) refresh();
  } finally {
    clearInterval(tick);
    scope.busy = false;
    button.disabled = false;
    if (scope.next) { const [nextAction, nextSettings] = scope.next; scope.next = null; run(scope, nextAction, nextSettings); }
  }
}

async function showResult(result, answer) {
  result.style.setProperty("--columns", answer.columns);
  const figures = answer.images.map((image) => element("figure", {}, [
    element("a", { href: image.url, download: image.name, title: `download ${image.name}` }, [element("img", { src: image.url, alt: image.caption })]),
    element("figcaption", { textContent: image.caption }),
  ]));
  result.replaceChildren(...figures);
  await Promise.all($$("img", result).map((img) => img.decode().catch(() => null)));
}

function addHistory(answer) {
  const copy = element("button", { type: "button", className: "copy", textContent: "Copy command" });
  const command = element("pre", { className: "command", textContent: answer.command });
  copy.onclick = async () => {
    try { await navigator.clipboard.writeText(answer.command); copy.textContent = "Copied"; } catch {
      getSelection().selectAllChildren(command); copy.textContent = "Selected: press Ctrl+C";
    }
  };
  const files = answer.inputs.map((input) => element("a", { href: input.url, download: input.name, textContent: input.name, title: "a file the command names" }));
  const last = answer.images[answer.images.length - 1];
  const item = element("li", { className: "item" }, [
    element("img", { src: last.url, alt: "" }),
    element("div", { className: "title", textContent: `${answer.id}. ${answer.title}` }),
    element("div", { className: "buttons" }, [
      element("a", { className: "download", href: answer.download.url, download: answer.download.name, textContent: "Download" }), copy, ...files]),
    command,
  ]);
  item.dataset.action = answer.action;
  $("#history").prepend(item);
}

// --------------------------------------------------------------------------------------------------- tabs

function setupGenerate(state) {
  const form = $("#generate form");
  modelSelect(form, state.tabs.generate, () => {
    const chosen = model(form);
    labelSelects($(".labels", form), chosen.labels);
    const psi = chosen.latent_space === "w";  // StyleGAN2's psi: 1 = off; others: a threshold on the noise
    $(".truncation", form).hidden = !chosen.truncation;
    slider(form, "truncation", psi ? { min: 0, max: 1, step: 0.05, value: 0.7 } : { min: 0.1, max: 3, step: 0.1, value: 1 });
  });
}

function generateSettings(form) {
  const settings = { model: model(form).name, labels: readLabels($(".labels", form)), seed: whole($("[name=seed]", form)),
    count: whole($("[name=count]", form)) };
  if (model(form).truncation && $("[name=truncate]", form).checked) settings.truncation = Number($("[name=truncation]", form).value);
  return settings;
}

function setupSketch(state) {
  modelSelect($("#sketch form"), state.tabs.sketch, () => {});
}

function sketchSettings(form) {
  const canvas = $("#canvas");
  if (studio.sketchUpload) return { model: model(form).name, sketch: studio.sketchUpload };
  return { model: model(form).name, sketch: { name: `sketch-${studio.sketchCount}.png`, data: canvas.toDataURL("image/png") }, drawn: true };
}

function clearCanvas() {
  const canvas = $("#canvas"), context = canvas.getContext("2d");
  context.fillStyle = "white";
  context.fillRect(0, 0, canvas.width, canvas.height);
  studio.sketchUpload = null;
}

function watchCanvas() {
  const canvas = $("#canvas"), context = canvas.getContext("2d"), form = $("#sketch form");
  clearCanvas();
  let drawing = null;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = event.pointerId;
    if (studio.sketchUpload) studio.sketchUpload = null;  // drawing over an upload makes a new sketch
    context.strokeStyle = "black";
    context.lineCap = context.lineJoin = "round";
    context.beginPath();
    context.moveTo(...point(event));
  });
  canvas.addEventListener("pointermove", (event) => {
    if (drawing !== event.pointerId) return;
    const base = Number($("[name=width]", form).value);
    for (const step of event.getCoalescedEvents ? event.getCoalescedEvents() : [event]) {
      context.lineWidth = event.pointerType === "pen" && step.pressure ? base * 2 * step.pressure : base;
      context.lineTo(...point(step));
      context.stroke();
      context.beginPath();
      context.moveTo(...point(step));
    }
  });
  const end = (event) => {
    if (drawing !== event.pointerId) return;
    drawing = null;
    studio.sketchCount += 1;
    run(form, "sketch", sketchSettings(form));  // the shoe follows each stroke
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  $(".clear", form).onclick = clearCanvas;
  const upload = $("[name=upload]", form);
  watchUpload(upload, "sketch", "sketch");
  upload.addEventListener("studio-upload", () => {
    const image = new Image();
    image.onload = () => {
      clearCanvas();
      const scale = Math.min(canvas.width / image.width, canvas.height / image.height);
      const [w, h] = [image.width * scale, image.height * scale];
      context.drawImage(image, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
      studio.sketchUpload = studio.uploads.sketch;
      run(form, "sketch", sketchSettings(form));
    };
    image.src = studio.uploads.sketch.data;
  });
}

function setupTranslate(state) {
  const form = $("#translate form");
  modelSelect(form, state.tabs.translate, () => {
    const chosen = model(form);
    const [a, b] = chosen.domains;
    const options = [["b", `${b} (${a} → ${b})`], ...(chosen.b_to_a ? [["a", `${a} (${b} → ${a})`]] : []), ["mixed", `mixed: ${a} … ${b}`]];
    const kept = $("input[name=language]:checked", form)?.value || "mixed";
    $(".language", form).replaceChildren(element("legend", { textContent: "Design language" }), ...options.map(([value, text]) =>
      element("label", {}, [element("input", { type: "radio", name: "language", value, checked: value === kept }), ` ${text}`])));
    const alpha = () => { $(".alpha", form).hidden = $("input[name=language]:checked", form)?.value !== "mixed"; };
    $$("input[name=language]", form).forEach((radio) => radio.addEventListener("change", alpha));
    alpha();
  });
}

function translateSettings(form) {
  return { model: model(form).name, image: studio.uploads.translate, language: $("input[name=language]:checked", form).value,
    alpha: Number($("[name=alpha]", form).value) };
}

function setupCombine(state) {
  const form = $("#combine form");
  modelSelect(form, state.tabs.combine, () => {
    const chosen = model(form);
    for (const source of ["first", "second"]) {
      const fieldset = $(`[data-source=${source}]`, form);
      labelSelects($(".labels", fieldset), chosen.labels, `${source}-`, source === "first" ? 0 : 1);  // two different shoes
      $(`input[name=${source}-from][value=photo]`, form).disabled = !chosen.abilities.includes("invert");
    }
    slider(form, "crossover", { min: 0, max: chosen.num_ws, step: 1, value: Math.floor(chosen.num_ws / 2) });
  });
}

function combineSettings(form) {
  const source = (name) => {
    const fieldset = $(`[data-source=${name}]`, form);
    if ($(`input[name=${name}-from]:checked`, form).value === "photo") return { photo: studio.uploads[`${name}-photo`] };
    return { seed: whole($(`[name=${name}-seed]`, form)), labels: readLabels($(".labels", fieldset)) };
  };
  return { model: model(form).name, crossover: whole($("[name=crossover]", form)), truncation: Number($("[name=truncation]", form).value),
    first: source("first"), second: source("second") };
}

function setupEdit(state) {
  const latent = $("#edit form.latent"), redesign = $("#edit form.redesign");
  latent.hidden = state.edit.latent.length === 0;
  redesign.hidden = state.edit.redesign.length === 0;
  if (!latent.hidden) {
    modelSelect(latent, state.edit.latent.map((entry) => entry.model), () => {
      const chosen = model(latent);
      const entry = state.edit.latent.find((e) => e.model === chosen.name);
      const directions = $("select[name=direction]", latent);
      fillSelect(directions, entry.directions.map((d) => String(d.index)), entry.directions.map((d) => d.name));
      directions.onchange = () => {
        const limit = entry.directions.find((d) => String(d.index) === directions.value).limit;
        slider(latent, "strength", { min: -limit, max: limit, step: limit / 12, value: limit / 2 });
      };
      directions.onchange();
      labelSelects($(".labels", latent), chosen.labels);
      $(".truncation", latent).hidden = chosen.latent_space !== "w";
      $(".z-note", latent).hidden = chosen.latent_space !== "z";
    });
  }
  if (!redesign.hidden) {
    modelSelect(redesign, state.edit.redesign.map((entry) => entry.model), () => {
      const parts = model(redesign).classes.slice(1);
      $(".parts", redesign).replaceChildren(...parts.map((part) => {
        const input = element("input", { type: "range", name: `part:${part}`, min: -8, max: 8, step: 1, value: 0 });
        const output = element("output", { textContent: "0" });
        input.addEventListener("input", () => { output.textContent = (input.value > 0 ? "+" : "") + input.value; });
        return element("label", { title: "pixels to grow (+) or shrink (-) it by" }, [`${part} `, input, output]);
      }));
    });
  }
}

function latentSettings(form) {
  return { model: model(form).name, direction: whole($("[name=direction]", form)), labels: readLabels($(".labels", form)),
    seed: whole($("[name=seed]", form)), strength: Number($("[name=strength]", form).value), truncation: Number($("[name=truncation]", form).value) };
}

function redesignSettings(form) {
  const chosen = model(form);
  const entry = studio.state.edit.redesign.find((e) => e.model === chosen.name);
  const edits = {};
  for (const input of $$("input[type=range]", $(".parts", form))) if (Number(input.value)) edits[input.name.slice(5)] = Number(input.value);
  return { model: chosen.name, segmenter: entry.segmenters[0], photo: studio.uploads.redesign, edits, seed: whole($("[name=seed]", form)) };
}

function setupPattern(state) {
  const form = $("#pattern form");
  modelSelect(form, state.tabs.pattern, () => labelSelects($(".labels", form), model(form).labels));
}

function patternSettings(form) {
  return { model: model(form).name, pattern: studio.uploads.pattern, labels: readLabels($(".labels", form)),
    seed: whole($("[name=seed]", form)), count: whole($("[name=count]", form)) };
}

const SETUP = { generate: setupGenerate, sketch: setupSketch, translate: setupTranslate, combine: setupCombine, edit: setupEdit, pattern: setupPattern };

function submitting(form, action, settings) {
  form.addEventListener("submit", (event) => { event.preventDefault(); run(form, action, settings(form)); });
}

function start() {
  for (const tab of TABS) $(`#tab-${tab}`).addEventListener("click", () => select(tab));
  submitting($("#generate form"), "generate", generateSettings);
  submitting($("#sketch form"), "sketch", sketchSettings);
  submitting($("#translate form"), "translate", translateSettings);
  submitting($("#combine form"), "combine", combineSettings);
  submitting($("#edit form.latent"), "edit", latentSettings);
  submitting($("#edit form.redesign"), "redesign", redesignSettings);
  submitting($("#pattern form"), "pattern", patternSettings);
  $("#generate .dice").onclick = () => { $("#generate [name=seed]").value = Math.floor(Math.random() * 100000); };
  $("#edit form.latent [name=strength]").addEventListener("change", () => run($("#edit form.latent"), "edit", latentSettings($("#edit form.latent"))));
  watchUpload($("#translate [name=image]"), "translate", "sneaker", $("#translate .preview"));
  watchUpload($("#combine [name=first-photo]"), "first-photo", "first photo");
  watchUpload($("#combine [name=second-photo]"), "second-photo", "second photo");
  watchUpload($("#edit [name=photo]"), "redesign", "photo");
  watchUpload($("#pattern [name=pattern]"), "pattern", "pattern image", $("#pattern .preview"));
  for (const source of ["first", "second"]) {
    for (const radio of $$(`input[name=${source}-from]`)) {
      radio.addEventListener("change", () => {
        const fieldset = $(`#combine [data-source=${source}]`);
        const photo = $(`input[name=${source}-from]:checked`).value === "photo";
        $(".from-seed", fieldset).hidden = photo;
        $(".from-photo", fieldset).hidden = !photo;
      });
    }
  }
  for (const form of $$("form")) for (const input of $$("input[type=range]", form)) slider(form, input.name);
  watchCanvas();
  refresh();
}

document.addEventListener("DOMContentLoaded", start);
