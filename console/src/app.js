import './styles.css';
import { call, session, ApiError, enc } from './api.js';
import { h, replace } from './dom.js';
import { datasetsView, datasetView } from './views/datasets.js';
import { runsView, runView } from './views/runs.js';
import { modelsView, modelView } from './views/models.js';
import { collaborationsView, collaborationView } from './views/collaborations.js';
import { auditView } from './views/audit.js';

const main = document.getElementById('main');
const status = document.getElementById('status');

// Hash routes: the console is static files, so every view lives after the '#'.
const routes = [
  [/^#\/datasets$/, () => datasetsView],
  [/^#\/datasets\/([^/?]+)(?:\?version=(\d+))?$/, m => (c, x) => datasetView(c, x, decodeURIComponent(m[1]), m[2])],
  [/^#\/runs$/, () => runsView],
  [/^#\/runs\/([^/]+)$/, m => (c, x) => runView(c, x, decodeURIComponent(m[1]))],
  [/^#\/models$/, () => modelsView],
  [/^#\/models\/([^/?]+)(?:\?version=(\d+))?$/, m => (c, x) => modelView(c, x, { tenant: true, model: decodeURIComponent(m[1]), version: m[2] })],
  [/^#\/collaborations$/, () => collaborationsView],
  [/^#\/collaborations\/([^/]+)$/, m => (c, x) => collaborationView(c, x, decodeURIComponent(m[1]))],
  [/^#\/collaborations\/([^/]+)\/models\/([^/?]+)(?:\?version=(\d+))?$/,
    m => (c, x) => modelView(c, x, { collaboration: decodeURIComponent(m[1]), model: decodeURIComponent(m[2]), version: m[3] })],
  [/^#\/audit$/, () => auditView],
];

let generation = 0;

async function render() {
  const current = session.get();
  setSignedIn(current);
  if (!current) {
    signInView();
    return;
  }
  const hash = location.hash || '#/datasets';
  const route = routes.map(([pattern, view]) => [hash.match(pattern), view]).find(([m]) => m);
  highlight(hash);
  status.textContent = '';
  const mine = ++generation;
  const context = { tenant: current.tenant, isCurrent: () => mine === generation, say: text => { status.textContent = text; } };
  if (!route) {
    replace(main, h('section', { class: 'card' }, h('h1', {}, 'Not found'), h('p', {}, 'No such page in the console. '), h('a', { href: '#/datasets' }, 'Datasets')));
    return;
  }
  try {
    await route[1](route[0])(main, context);
  } catch (e) {
    if (!context.isCurrent()) return;
    if (e instanceof ApiError && e.status === 401) {
      session.clear();
      signInView('Your key is no longer accepted (revoked or expired). Sign in again.');
      setSignedIn(null);
      return;
    }
    replace(main, h('section', { class: 'card error', role: 'alert' }, h('h1', {}, e.title ?? 'Something went wrong'), h('p', {}, e.message)));
  }
}

function highlight(hash) {
  for (const a of document.querySelectorAll('#nav a')) {
    if (hash.startsWith(a.getAttribute('href'))) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function setSignedIn(current) {
  document.getElementById('nav').hidden = !current;
  document.getElementById('sign-out').hidden = !current;
  const who = document.getElementById('who');
  who.hidden = !current;
  who.textContent = current ? `${current.name ?? current.tenant} (${current.tenant})` : '';
}

function signInView(message) {
  const error = h('p', { class: 'error', id: 'sign-in-error', role: 'alert' }, message ?? '');
  const tenant = h('input', { id: 'tenant', name: 'tenant', required: true, autocomplete: 'username', spellcheck: 'false' });
  const key = h('input', { id: 'api-key', name: 'api-key', type: 'password', required: true, autocomplete: 'current-password' });
  const submit = h('button', { type: 'submit', id: 'sign-in-submit' }, 'Sign in');
  const form = h('form', { class: 'stack', 'aria-describedby': 'sign-in-help' },
    h('label', { for: 'tenant' }, 'Tenant'), tenant,
    h('label', { for: 'api-key' }, 'API key'), key,
    submit, error);
  form.addEventListener('submit', async event => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    try {
      // The tenant's own record: any key of the tenant may read it, so it proves key and tenant belong together.
      const record = await call(`tenants/${enc(tenant.value.trim())}`, { key: key.value.trim() });
      session.set({ tenant: record.id, name: record.name, key: key.value.trim() });
      key.value = '';
      if (!location.hash || location.hash === '#/') location.hash = '#/datasets';
      else render();
    } catch (e) {
      error.textContent = e instanceof ApiError && (e.status === 401 || e.status === 404 || e.status === 403)
        ? `Sign-in failed: ${e.status === 401 ? 'the API key was not accepted (wrong, revoked or expired).' : `this key cannot read tenant '${tenant.value.trim()}'.`}`
        : `Sign-in failed: ${e.message}`;
    } finally {
      submit.disabled = false;
    }
  });
  replace(main, h('section', { class: 'card sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('p', { id: 'sign-in-help' }, 'Use your tenant id and an API key of that tenant. The key stays in this browser tab only and is forgotten when the tab closes.'),
    form));
  tenant.focus();
}

document.getElementById('sign-out').addEventListener('click', () => {
  session.clear();
  location.hash = '';
  render();
});
window.addEventListener('hashchange', render);
render();
