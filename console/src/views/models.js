import { call, enc } from '../api.js';
import { h, replace, table, section, facts, number, time, link, loading } from '../dom.js';
import { leaderboard } from '../charts.js';

export async function modelsView(main, context) {
  loading(main, 'Models');
  const [{ models }, { collaborations }] = await Promise.all([
    call(`tenants/${enc(context.tenant)}/models`), call('collaborations')]);
  const pooled = await Promise.all(collaborations.filter(c => c.state === 'active')
    .map(async c => ({ collaboration: c.id, models: (await call(`collaborations/${enc(c.id)}`)).models ?? [] })));
  if (!context.isCurrent()) return;
  const columns = href => [
    { title: 'Model', cell: m => link(href(m), m.model) },
    { title: 'Latest version', numeric: true, cell: m => `v${m.latestVersion}` },
    { title: 'Production', numeric: true, cell: m => m.productionVersion ? `v${m.productionVersion}` : 'none' },
  ];
  replace(main, h('h1', {}, 'Models'),
    section('Models of this tenant', table('Models trained on this tenant\'s data', columns(m => `#/models/${enc(m.model)}`), models)),
    pooled.map(p => section(`Models of collaboration ${p.collaboration}`,
      table(`Models trained together in ${p.collaboration}`, columns(m => `#/collaborations/${enc(p.collaboration)}/models/${enc(m.model)}`), p.models))));
}

/** One model: versions and stages, the selected version's leaderboard, lineage, ONNX download and a prediction form. */
export async function modelView(main, context, { tenant, collaboration, model, version }) {
  loading(main, `Model ${model}`);
  const base = collaboration ? `collaborations/${enc(collaboration)}/models/${enc(model)}` : `tenants/${enc(context.tenant)}/models/${enc(model)}`;
  const here = collaboration ? `#/collaborations/${enc(collaboration)}/models/${enc(model)}` : `#/models/${enc(model)}`;
  const summary = await call(base);
  if (!context.isCurrent()) return;
  const wanted = Number(version ?? summary.productionVersion ?? summary.latestVersion);
  const selected = summary.versions.find(v => v.version === wanted) ?? summary.versions.at(-1);
  replace(main,
    h('h1', {}, collaboration ? `Model ${model} of ${collaboration}` : `Model ${model}`),
    section('Versions', table('Versions and their stages', [
      { title: 'Version', cell: v => link(`${here}?version=${v.version}`, `v${v.version}`) },
      { title: 'Stage', cell: v => h('span', { class: `pill ${v.stage}` }, v.stage) },
      { title: 'Best candidate', cell: v => v.configuration?.id ?? '–' },
      { title: 'Metric', numeric: true, cell: v => `${v.metric} ${number(v.metricValue)}` },
      { title: 'Created', cell: v => time(v.createdAt) },
      { title: 'Run', cell: v => v.runId ? link(`#/runs/${enc(v.runId)}`, 'run') : '–' },
      { title: 'Why this stage', cell: v => v.revocation ? `revoked: ${v.revocation.reason ?? ''}` : v.promotionReason ?? '' },
    ], summary.versions, v => ({ 'aria-current': v.version === selected?.version ? 'true' : null }))),
    selected ? versionSections(base, selected, tenant) : null);
}

function versionSections(base, v, tenant) {
  // In the order training ranked them (best first whichever way the metric points, statistical ties by accuracy,
  // failed candidates last): sorting here by the mean put the worst first for rmse or logLoss.
  const candidates = v.leaderboard ?? [];
  const best = v.configuration?.id;
  return [
    section(`Leaderboard of v${v.version}`,
      h('p', { id: 'best-candidate' }, 'Chosen: ', h('strong', {}, best ?? '–'), ` (cross-validated ${v.metric} ${number(v.metricValue)})`,
        v.classWeights ? `; trained with ${v.classWeights} class weights (metrics unweighted)` : ''),
      leaderboard(v.metric, candidates, best),
      table(`Candidates as ranked by ${v.metric} (mean ± standard deviation over the folds; candidates within one standard error of the best are tied, and the more accurate ranks first)`, [
        { title: 'Candidate', cell: c => c.candidateId === best ? h('strong', {}, `${c.candidateId} ★`) : c.candidateId },
        { title: 'Trainer', cell: c => c.trainer },
        { title: v.metric, numeric: true, cell: c => c.metrics?.[v.metric] ? `${number(c.metrics[v.metric].mean)} ± ${number(c.metrics[v.metric].std)}` : '–' },
        { title: 'Folds', numeric: true, cell: c => number(c.foldsSucceeded) },
        { title: 'Settings', cell: c => Object.entries(c.hyperParameters ?? {}).map(([k, x]) => `${k}=${x}`).join(', ') },
        { title: 'Error', cell: c => c.error ?? '' },
      ], candidates, c => ({ class: c.candidateId === best ? 'best' : null }))),
    section('Lineage', lineage(v, tenant)),
    section('Download', h('p', {}, `ONNX, sha256 ${v.onnxSha256 ?? '–'}`), download(base, v)),
    section('Try a prediction', predictForm(base, v)),
  ];
}

function lineage(v, tenant) {
  if (v.members?.length) {
    return table('Data of each member this version was trained on', [
      { title: 'Member', cell: m => m.member },
      { title: 'Dataset', cell: m => `${m.dataset} v${m.version}` },
      { title: 'Training rows', numeric: true, cell: m => number(m.trainRows) },
      { title: 'Evaluation rows', numeric: true, cell: m => number(m.evaluationRows) },
      { title: 'Grant', cell: m => m.grantId },
      { title: 'Source sha256', cell: m => (m.sourceSha256 ?? '').slice(0, 16) },
    ], v.members);
  }
  return table('Dataset versions this version was trained on', [
    { title: 'Dataset', cell: d => tenant ? link(`#/datasets/${enc(d.dataset)}?version=${d.version}`, `${d.dataset} v${d.version}`) : `${d.dataset} v${d.version}` },
    { title: 'Rows', numeric: true, cell: d => number(d.rows) },
    { title: 'Source sha256', cell: d => (d.sourceSha256 ?? '').slice(0, 16) },
  ], v.datasets ?? []);
}

function download(base, v) {
  const message = h('span', { role: 'status', id: 'download-status' });
  const button = h('button', { type: 'button', id: 'download-onnx' }, `Download ${v.model} v${v.version}.onnx`);
  button.addEventListener('click', async () => {
    // The route needs the key in a header, so the file is fetched and handed to the browser as a blob.
    button.disabled = true;
    try {
      const blob = await call(`${base}/versions/${v.version}/onnx`, { as: 'blob' });
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `${v.model}-v${v.version}.onnx` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      message.textContent = `Downloaded ${blob.size.toLocaleString('en')} bytes.`;
    } catch (e) {
      message.textContent = `Download failed: ${e.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return h('p', {}, button, ' ', message);
}

function predictForm(base, v) {
  const inputs = (v.inputs ?? []).map((input, i) => {
    const id = `input-${i}`;
    const numeric = input.type === 'float' || input.type === 'double' || input.type === 'int';
    return { input, field: h('input', { id, name: input.name, inputmode: numeric ? 'decimal' : null, required: true }), id };
  });
  const result = h('div', { id: 'prediction', 'aria-live': 'polite' });
  const form = h('form', { class: 'grid-form' },
    inputs.map(({ input, field, id }) => h('div', { class: 'field' }, h('label', { for: id }, `${input.name} (${input.type})`), field)),
    h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'predict-submit' }, `Predict with v${v.version}`)));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const row = Object.fromEntries(inputs.map(({ input, field }) => {
      const text = field.value.trim();
      const numeric = input.type !== 'string' && input.type !== 'bool' && text !== '' && !Number.isNaN(Number(text));
      return [input.name, numeric ? Number(text) : input.type === 'bool' ? text.toLowerCase() === 'true' : text];
    }));
    try {
      const answer = await call(`${base}/versions/${v.version}/predict`, { method: 'POST', body: { rows: [row] } });
      const p = answer.predictions[0];
      replace(result, facts([['Label', p.label ?? '–'], ['Score', number(p.score)],
        ...Object.entries(p.probabilities ?? {}).map(([k, x]) => [`P(${k})`, number(x)])]));
    } catch (e) {
      const errors = e.problem?.errors ?? [];
      replace(result, h('div', { class: 'error', role: 'alert' }, h('p', {}, e.message),
        errors.length ? h('ul', {}, errors.slice(0, 10).map(x => h('li', {}, `${x.field}: ${x.problem}`))) : null));
    }
  });
  return [h('p', {}, `Output: ${v.outputMeaning ?? ''}`), form, result];
}
