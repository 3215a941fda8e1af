// Wires the tabs and loads the model list the two tabs share; models still loading are polled until they settle.
import { json, guarded } from './api.js';
import * as segment from './segment.js';
import * as evaluate from './evaluate.js';

const tabs = [...document.querySelectorAll('[role="tab"]')];

function select(tab) {
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute('aria-selected', String(selected));
    t.tabIndex = selected ? 0 : -1;
    document.getElementById(t.getAttribute('aria-controls')).hidden = !selected;
  }
  tab.focus();
  history.replaceState(null, '', `#${tab.id.replace('tab-', '')}`);
}

for (const [i, tab] of tabs.entries()) {
  tab.addEventListener('click', () => select(tab));
  tab.addEventListener('keydown', e => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      select(tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length]);
    }
  });
}

async function loadModels() {
  const list = await guarded(() => json('/v1/models', { label: 'Loading the models…' }));
  if (!list) return;
  segment.setModels(list.models);
  evaluate.setModels(list.models);
  document.body.dataset.models = 'loaded';
  if (list.models.some(m => m.status === 'loading')) setTimeout(loadModels, 2000);
}

// A key entered (or changed) may open what the service refused: ask again.
document.getElementById('api-key').addEventListener('change', loadModels);
segment.initSegment();
evaluate.initEvaluate();
if (location.hash === '#evaluate') select(tabs[1]);
loadModels();
