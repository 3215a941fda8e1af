// The Segment tab: one image through one model; the original beside the overlay, the classes present, portrait
// effects for models with a person class, objects with their scores for instance models, and downloads.
import { call, json, guarded, percent, dropZone } from './api.js';

const $ = id => document.getElementById(id);
const modelSelect = $('model');
const overlayImg = $('overlay');
const stack = $('stack');
let models = [];
let file = null;
let segmentation = null;
let generation = 0;
const urls = {};

export function setModels(list) {
  models = list;
  const previous = modelSelect.value;
  modelSelect.replaceChildren(...list.map(m => {
    const option = new Option(`${m.name} — ${m.status}${m.executionProvider ? `, ${m.executionProvider}` : ''}${m.task ? ` (${m.task})` : ''}`, m.name);
    option.disabled = m.status !== 'ready';
    return option;
  }));
  const ready = list.find(m => m.name === previous && m.status === 'ready') ?? list.find(m => m.status === 'ready');
  if (ready) modelSelect.value = ready.name;
  describeModel();
}

const current = () => models.find(m => m.name === modelSelect.value);
const isInstance = model => model?.task === 'instance';
const hasPerson = model => model?.task !== 'instance' && (model?.classes ?? []).some(c => c.name.toLowerCase() === 'person');

function describeModel() {
  const model = current();
  $('model-info').textContent = !model ? 'No model is ready yet.'
    : `${model.description ?? ''} ${model.status === 'failed' ? `Failed: ${model.failureReason}` : ''} ${model.executionProviderNote ?? ''}`.trim();
  $('effects').hidden = !hasPerson(model);
  $('score-row').hidden = !isInstance(model);
  if (!hasPerson(model)) document.querySelector('input[name="effect"][value="none"]').checked = true;
}

function setUrl(name, blob) {
  if (urls[name]) URL.revokeObjectURL(urls[name]);
  urls[name] = URL.createObjectURL(blob);
  return urls[name];
}

function effect() {
  return document.querySelector('input[name="effect"]:checked').value;
}

async function onFile(chosen) {
  if (!chosen) return;
  file = chosen;
  const url = setUrl('original', file);
  $('original').src = url;
  $('under').src = url;
  $('original').alt = `The uploaded image, ${file.name}`;
  await segment();
}

async function segment() {
  const model = current();
  if (!file || !model) return;
  const mine = ++generation;
  overlayImg.dataset.ready = 'false';
  await guarded(async () => {
    const form = new FormData();
    form.append('image', file, file.name);
    const query = isInstance(model) ? '?scoreThreshold=0.05' : '';
    const result = await json(`/v1/models/${encodeURIComponent(model.name)}/segment${query}`, { method: 'POST', body: form, label: `Segmenting with ${model.name}…` });
    if (mine !== generation) return;
    segmentation = { model, result };
    $('result').hidden = false;
    $('download-json').href = setUrl('json', new Blob([JSON.stringify(result, null, 2)], { type: 'application/json' }));
    $('download-json').download = `${model.name}-segmentation.json`;
    $('download-classmap').hidden = !result.classMap;
    if (result.classMap) {
      const bytes = Uint8Array.from(atob(result.classMap.data), c => c.charCodeAt(0));
      $('download-classmap').href = setUrl('classmap', new Blob([bytes], { type: 'image/png' }));
      $('download-classmap').download = `${model.name}-classmap.png`;
    }
    const t = result.timings;
    $('timings').textContent = t ? `${result.width}×${result.height} px, ${result.executionProvider}, ${t.totalMs.toFixed(0)} ms (inference ${t.inferenceMs.toFixed(0)} ms)` : '';
    drawObjects();
    drawLegend();
    await overlay(mine);
  });
}

async function overlay(mine = ++generation) {
  const model = segmentation?.model;
  if (!file || !model) return;
  overlayImg.dataset.ready = 'false';
  const chosen = hasPerson(model) ? effect() : 'none';
  const query = new URLSearchParams({ format: 'png' });
  if (chosen === 'none') query.set('alpha', '1');
  else query.set('effect', chosen);
  if (chosen === 'blur') query.set('radius', $('radius').value);
  if (chosen === 'replace') query.set('background', $('background').value);
  if (isInstance(model)) query.set('scoreThreshold', $('score').value);
  await guarded(async () => {
    const form = new FormData();
    form.append('image', file, file.name);
    const response = await call(`/v1/models/${encodeURIComponent(model.name)}/overlay?${query}`, { method: 'POST', body: form, label: 'Drawing the overlay…' });
    const blob = await response.blob();
    if (mine !== generation) return;
    const url = setUrl('overlay', blob);
    await new Promise(resolve => { overlayImg.onload = overlayImg.onerror = resolve; overlayImg.src = url; });
    stack.classList.toggle('effect', chosen !== 'none');
    stack.classList.toggle('checker', chosen === 'cutout');
    overlayImg.dataset.effect = chosen;
    overlayImg.alt = chosen === 'none' ? `The image with ${model.name}'s classes coloured` : `The image with the ${chosen} portrait effect`;
    $('overlay-caption').textContent = chosen === 'none' ? 'Overlay' : `Portrait effect: ${chosen}`;
    $('opacity-row').hidden = chosen !== 'none';
    applyOpacity();
    $('download-overlay').href = url;
    $('download-overlay').download = `${model.name}-${chosen === 'none' ? 'overlay' : chosen}.png`;
    overlayImg.dataset.ready = 'true';
  });
}

function applyOpacity() {
  const value = Number($('opacity').value);
  $('opacity-value').textContent = `${Math.round(value * 100)}%`;
  overlayImg.style.opacity = overlayImg.dataset.effect && overlayImg.dataset.effect !== 'none' ? '1' : String(value);
}

function drawLegend() {
  const { model, result } = segmentation;
  const colour = id => model.classes.find(c => c.id === id)?.color ?? '#888';
  let rows;
  if (result.instances) {
    const threshold = Number($('score').value);
    const byClass = new Map();
    for (const o of result.instances.filter(o => o.score >= threshold)) {
      const entry = byClass.get(o.className) ?? { id: o.classId, name: o.className, count: 0, pixels: 0 };
      entry.count++;
      entry.pixels += o.area;
      byClass.set(o.className, entry);
    }
    rows = [...byClass.values()].map(e => ({ ...e, fraction: e.pixels / (result.width * result.height), label: `${e.name} ×${e.count}` }));
  } else {
    rows = result.classes.map(c => ({ ...c, label: c.name }));
  }
  $('legend').replaceChildren(...rows.map(r => {
    const li = document.createElement('li');
    li.dataset.class = r.name;
    li.dataset.fraction = String(r.fraction);
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = colour(r.id);
    li.append(swatch, `${r.label}: ${percent(r.fraction, 1)}`);
    return li;
  }));
  if (!rows.length) $('legend').textContent = 'None found.';
}

function drawObjects() {
  const svg = $('boxes');
  const { result } = segmentation;
  svg.replaceChildren();
  if (!result.instances) return;
  svg.setAttribute('viewBox', `0 0 ${result.width} ${result.height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  // Smaller boxes last, so that they lie on top and a small object inside a large one can still be hovered.
  const area = o => (o.box.x2 - o.box.x1) * (o.box.y2 - o.box.y1);
  for (const o of [...result.instances].sort((a, b) => area(b) - area(a))) {
    const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
    rect.setAttribute('x', o.box.x1);
    rect.setAttribute('y', o.box.y1);
    rect.setAttribute('width', o.box.x2 - o.box.x1);
    rect.setAttribute('height', o.box.y2 - o.box.y1);
    rect.setAttribute('stroke', segmentation.model.classes.find(c => c.id === o.classId)?.color ?? '#ff0');
    rect.dataset.score = o.score;
    rect.dataset.class = o.className;
    rect.addEventListener('mouseenter', e => showTip(e, `${o.className} ${o.score.toFixed(2)}`));
    rect.addEventListener('mousemove', e => showTip(e, `${o.className} ${o.score.toFixed(2)}`));
    rect.addEventListener('mouseleave', () => { $('tip').hidden = true; });
    svg.append(rect);
  }
  filterObjects();
}

function showTip(event, text) {
  const tip = $('tip');
  const box = stack.getBoundingClientRect();
  tip.textContent = text;
  tip.style.left = `${event.clientX - box.left + 10}px`;
  tip.style.top = `${event.clientY - box.top + 10}px`;
  tip.hidden = false;
}

function filterObjects() {
  const threshold = Number($('score').value);
  $('score-value').textContent = threshold.toFixed(2);
  for (const rect of $('boxes').querySelectorAll('rect')) rect.classList.toggle('hidden', Number(rect.dataset.score) < threshold);
}

function debounce(action, ms = 250) {
  let timer;
  return () => { clearTimeout(timer); timer = setTimeout(action, ms); };
}

export function initSegment() {
  modelSelect.addEventListener('change', () => { describeModel(); segment(); });
  $('image').addEventListener('change', e => onFile(e.target.files[0]));
  dropZone($('drop'), files => onFile(files[0]));
  $('opacity').addEventListener('input', applyOpacity);
  const redraw = debounce(() => overlay());
  for (const radio of document.querySelectorAll('input[name="effect"]')) {
    radio.addEventListener('change', () => {
      $('radius-row').hidden = effect() !== 'blur';
      $('background-row').hidden = effect() !== 'replace';
      overlay();
    });
  }
  $('radius').addEventListener('input', () => { $('radius-value').textContent = `${$('radius').value} px`; redraw(); });
  $('background').addEventListener('change', () => overlay());
  $('score').addEventListener('input', () => { filterObjects(); if (segmentation) drawLegend(); redraw(); });
}
