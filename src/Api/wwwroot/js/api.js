// Every call to the API goes through here: the API key (if one is entered), a time limit so that nothing hangs,
// the spinner while a request runs, and problem+json errors turned into plain words.

const keyInput = document.getElementById('api-key');
const busy = document.getElementById('busy');
const busyText = document.getElementById('busy-text');
const errorBox = document.getElementById('error');
let running = 0;

keyInput.value = sessionStorage.getItem('segserve-key') ?? '';
keyInput.addEventListener('change', () => sessionStorage.setItem('segserve-key', keyInput.value.trim()));
document.getElementById('error-close').addEventListener('click', clearError);

/** An error the API answered, with the problem's title and detail. */
export class ApiError extends Error {
  constructor(title, detail, status) {
    super(detail ? `${title}: ${detail}` : title);
    this.title = title;
    this.detail = detail;
    this.status = status;
  }
}

export function showError(error) {
  const title = error instanceof ApiError ? error.title
    : error?.name === 'TimeoutError' ? 'The service took too long to answer'
    : error instanceof TypeError ? 'The service could not be reached'
    : 'Something went wrong';
  const detail = error instanceof ApiError ? error.detail : error?.message ?? String(error);
  document.getElementById('error-title').textContent = title;
  document.getElementById('error-detail').textContent = detail ?? '';
  errorBox.hidden = false;
}

export function clearError() {
  errorBox.hidden = true;
}

/**
 * Calls the API. Returns the Response when it is a success; throws ApiError otherwise.
 * @param {string} path
 * @param {RequestInit & {label?: string, timeoutMs?: number}} init
 */
export async function call(path, init = {}) {
  const headers = new Headers(init.headers);
  const key = keyInput.value.trim();
  if (key) headers.set('X-Api-Key', key);
  running++;
  busyText.textContent = init.label ?? 'Working…';
  busy.hidden = false;
  try {
    const response = await fetch(path, { ...init, headers, signal: AbortSignal.timeout(init.timeoutMs ?? 120_000) });
    if (!response.ok) throw await problemOf(response);
    return response;
  } finally {
    if (--running === 0) busy.hidden = true;
  }
}

export async function json(path, init) {
  return (await call(path, init)).json();
}

async function problemOf(response) {
  const text = await response.text().catch(() => '');
  try {
    const problem = JSON.parse(text);
    let detail = problem.detail ?? '';
    if (problem.errors) {
      detail = [detail, ...Object.entries(problem.errors).map(([field, messages]) => `${field}: ${[].concat(messages).join(' ')}`)].filter(Boolean).join(' ');
    }
    return new ApiError(problem.title ?? `HTTP ${response.status}`, detail, response.status);
  } catch {
    const retry = response.headers.get('Retry-After');
    return new ApiError(`HTTP ${response.status} ${response.statusText}`.trim(), retry ? `Try again in ${retry} s.` : text.slice(0, 300), response.status);
  }
}

/** Runs an action of the page: errors are shown, never thrown to the console alone. */
export async function guarded(action) {
  clearError();
  try {
    return await action();
  } catch (error) {
    showError(error);
    return undefined;
  }
}

export function percent(value, digits = 2) {
  return value == null ? '—' : `${(value * 100).toFixed(digits)}%`;
}

/** Lets a drop zone take files dragged onto it. */
export function dropZone(zone, onFiles) {
  zone.addEventListener('dragover', e => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', e => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer?.files.length) onFiles([...e.dataTransfer.files]);
  });
}
