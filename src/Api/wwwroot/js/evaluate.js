// The Evaluate tab: a run over a dataset (a zip of pairs, or a folder sent pair by pair), its progress, the
// dataset's scores and report picture; runs made from this browser are remembered and can be reopened.
import { call, json, guarded, percent, dropZone } from './api.js';

const $ = id => document.getElementById(id);
const storeKey = 'segserve-runs';
let archive = null;
let folder = [];
let shown = null;
let reportUrl = null;

export function setModels(list) {
  const options = [new Option('uploaded predictions (no model)', '')];
  for (const m of list.filter(m => m.task !== 'instance')) {
    const option = new Option(`model ${m.name} — ${m.status}`, m.name);
    option.disabled = m.status !== 'ready';
    options.push(option);
  }
  const previous = $('eval-model').value;
  $('eval-model').replaceChildren(...options);
  $('eval-model').value = previous;
}

const remembered = () => JSON.parse(localStorage.getItem(storeKey) ?? '[]');

function remember(run) {
  const runs = remembered().filter(r => r.id !== run.id);
  runs.unshift({ id: run.id, model: run.model, created: run.created });
  localStorage.setItem(storeKey, JSON.stringify(runs.slice(0, 50)));
  listRuns();
}

function forget(id) {
  localStorage.setItem(storeKey, JSON.stringify(remembered().filter(r => r.id !== id)));
  listRuns();
}

function listRuns() {
  const runs = remembered();
  $('runs').replaceChildren(...runs.map(r => {
    const li = document.createElement('li');
    const open = document.createElement('button');
    open.type = 'button';
    open.textContent = `Open ${r.id}`;
    open.addEventListener('click', () => guarded(() => show(r.id)));
    li.append(open, ` ${r.model ? `model ${r.model}` : 'uploaded predictions'}, ${new Date(r.created).toLocaleString()}`);
    return li;
  }));
  if (!runs.length) $('runs').textContent = 'None yet from this browser.';
}

function progress(done, total) {
  $('progress-box').hidden = false;
  $('progress').max = Math.max(total, 1);
  $('progress').value = done;
  $('progress-text').textContent = `${done} / ${total}`;
}

/** Pairs a folder's files by name without extension: ground truth in groundTruth/ (or gt, labels,
// annotations), predictions in prediction/, or images in images/ when a model predicts — as the API reads a zip. */
function pairsOf(files, withModel) {
  const stem = name => name.replace(/\.[^.]+$/, '');
  const folderOf = f => (f.webkitRelativePath || f.name).split('/').slice(-2, -1)[0]?.toLowerCase() ?? '';
  const truths = new Map();
  const inputs = new Map();
  for (const f of files) {
    const kind = folderOf(f);
    if (['groundtruth', 'gt', 'label', 'labels', 'annotation', 'annotations'].includes(kind)) truths.set(stem(f.name), f);
    else if ((withModel && ['image', 'images'].includes(kind)) || ['prediction', 'predictions', 'pred'].includes(kind)) inputs.set(stem(f.name), f);
  }
  return [...truths.entries()].filter(([name]) => inputs.has(name)).map(([name, truth]) => ({ name, truth, input: inputs.get(name) }));
}

/** Ground-truth files listed in a zip's central directory (the total to show before the upload answers). */
async function countZipPairs(zip) {
  const tail = new DataView(await zip.slice(Math.max(0, zip.size - 65_557)).arrayBuffer());
  for (let i = tail.byteLength - 22; i >= 0; i--) {
    if (tail.getUint32(i, true) !== 0x06054b50) continue;
    const size = tail.getUint32(i + 12, true);
    const offset = tail.getUint32(i + 16, true);
    const directory = new DataView(await zip.slice(offset, offset + size).arrayBuffer());
    let count = 0;
    for (let p = 0; p + 46 <= directory.byteLength && directory.getUint32(p, true) === 0x02014b50;) {
      const nameLength = directory.getUint16(p + 28, true);
      const name = new TextDecoder().decode(new Uint8Array(directory.buffer, p + 46, nameLength)).toLowerCase();
      if (!name.endsWith('/') && /(^|\/)(groundtruth|gt|labels?|annotations?)\/[^/]+$/.test(name)) count++;
      p += 46 + nameLength + directory.getUint16(p + 30, true) + directory.getUint16(p + 32, true);
    }
    return count;
  }
  return 0;
}

async function start(event) {
  event.preventDefault();
  await guarded(async () => {
    const model = $('eval-model').value || null;
    if (!archive && !folder.length) throw new Error('Choose a zip of pairs or a folder first.');
    const pairs = archive ? null : pairsOf(folder, !!model);
    if (pairs && !pairs.length) throw new Error(`No pairs found in the folder: it needs groundTruth/ and ${model ? 'images/' : 'prediction/'} with files of the same names.`);
    const body = { task: 'semantic', model };
    if ($('num-classes').value) body.numClasses = Number($('num-classes').value);
    if ($('ignore-index').value) body.ignoreIndex = Number($('ignore-index').value);
    if ($('class-names').value.trim()) body.classNames = $('class-names').value.split(',').map(s => s.trim());
    $('run-start').disabled = true;
    try {
      const run = await json('/v1/evaluations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), label: 'Creating the run…' });
      remember(run);
      if (archive) {
        const total = await countZipPairs(archive);
        progress(0, total);
        const form = new FormData();
        form.append('archive', archive, archive.name);
        const added = await json(`/v1/evaluations/${run.id}/samples`, { method: 'POST', body: form, label: `Scoring ${total} samples…`, timeoutMs: 600_000 });
        progress(added.sampleCount, Math.max(total, added.sampleCount));
      } else {
        progress(0, pairs.length);
        let done = 0;
        for (const pair of pairs) {
          const form = new FormData();
          form.append(model ? 'image' : 'prediction', pair.input, pair.input.name);
          form.append('groundTruth', pair.truth, pair.truth.name);
          await call(`/v1/evaluations/${run.id}/samples?name=${encodeURIComponent(pair.name)}`, { method: 'POST', body: form, label: `Scoring ${pair.name}…` });
          progress(++done, pairs.length);
        }
      }
      await show(run.id);
    } finally {
      $('run-start').disabled = false;
    }
  });
}

async function show(id) {
  const run = await json(`/v1/evaluations/${encodeURIComponent(id)}`, { label: 'Reading the run…' }).catch(error => {
    if (error.status === 404) forget(id);
    throw error;
  });
  shown = run;
  $('run').hidden = false;
  $('run-id').textContent = run.id;
  const s = run.scores;
  for (const [element, value] of [['miou', s?.meanIou], ['aacc', s?.pixelAccuracy], ['macc', s?.meanAccuracy]]) {
    $(element).textContent = percent(value);
    $(element).dataset.value = value ?? '';
  }
  $('sample-count').textContent = String(run.sampleCount);
  $('class-table').tBodies[0].replaceChildren(...(s?.classes ?? []).map(c => {
    const tr = document.createElement('tr');
    for (const text of [c.name ?? `class ${c.id}`, percent(c.iou), percent(c.dice), percent(c.recall), c.groundTruthPixels.toLocaleString()]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    tr.firstChild.scope = 'row';
    return tr;
  }));
  $('report').hidden = !s;
  if (s) {
    const blob = await (await call(`/v1/evaluations/${encodeURIComponent(id)}/report.png`, { label: 'Drawing the report…' })).blob();
    if (reportUrl) URL.revokeObjectURL(reportUrl);
    reportUrl = URL.createObjectURL(blob);
    $('report').src = reportUrl;
  }
  $('run').dataset.ready = 'true';
}

export function initEvaluate() {
  $('run-form').addEventListener('submit', start);
  $('archive').addEventListener('change', e => { archive = e.target.files[0] ?? null; folder = []; });
  $('folder').addEventListener('change', e => { folder = [...e.target.files]; archive = null; });
  dropZone($('eval-drop'), files => {
    if (files[0]?.name.toLowerCase().endsWith('.zip')) { archive = files[0]; folder = []; }
    else { folder = files; archive = null; }
  });
  $('run-delete').addEventListener('click', () => guarded(async () => {
    if (!shown) return;
    await call(`/v1/evaluations/${encodeURIComponent(shown.id)}`, { method: 'DELETE', label: 'Deleting the run…' });
    forget(shown.id);
    $('run').hidden = true;
    shown = null;
  }));
  listRuns();
}
