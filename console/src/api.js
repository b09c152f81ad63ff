// Every call goes through the public API with the signed-in key; the key lives in this tab's session storage only.
const storageKey = 'lepton.session';

/** The API's base path: the console is served at <prefix>/console/, the API at <prefix>/. */
export const apiBase = location.pathname.replace(/\/console(\/.*)?$/, '');

export class ApiError extends Error {
  constructor(status, title, detail, problem) {
    super(detail || title || `HTTP ${status}`);
    this.status = status;
    this.title = title;
    this.problem = problem;
  }
}

export const session = {
  get() {
    try { return JSON.parse(sessionStorage.getItem(storageKey)); } catch { return null; }
  },
  set(value) { sessionStorage.setItem(storageKey, JSON.stringify(value)); },
  clear() { sessionStorage.removeItem(storageKey); },
};

export async function call(path, { method = 'GET', body, key = session.get()?.key, as = 'json' } = {}) {
  const headers = { 'x-api-key': key ?? '' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(`${apiBase}/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'The platform cannot be reached', `No answer from ${apiBase}/${path}: ${e.message}`);
  }
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* the hosts answer an empty 401/404 before the app runs */ }
    throw new ApiError(response.status, problem?.title ?? response.statusText, problem?.detail ?? describe(response.status), problem);
  }
  if (as === 'blob') return response.blob();
  return response.status === 204 ? null : response.json();
}

function describe(status) {
  switch (status) {
    case 401: return 'The API key was not accepted: it is wrong, revoked or expired.';
    case 403: return 'This key has no role that allows it.';
    case 404: return 'Not found, or not visible to this key.';
    case 429: return 'Too many requests; wait a moment and try again.';
    case 503: return 'The platform is temporarily unavailable; try again shortly.';
    default: return `The platform answered ${status}.`;
  }
}

export const enc = encodeURIComponent;
