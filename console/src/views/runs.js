import { call, enc } from '../api.js';
import { h, replace, table, section, facts, number, time, link, loading } from '../dom.js';
import { rounds } from '../charts.js';

const finished = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

/** Runs this key can see: ingest runs of the tenant's datasets and the training runs behind its and its collaborations' models. */
export async function runsView(main, context) {
  loading(main, 'Runs');
  const tenant = enc(context.tenant);
  const [{ datasets }, { models }, { collaborations }] = await Promise.all([
    call(`tenants/${tenant}/datasets`), call(`tenants/${tenant}/models`), call('collaborations')]);
  const details = await Promise.all(datasets.map(d => call(`tenants/${tenant}/datasets/${enc(d.dataset)}`)));
  const pooled = (await Promise.all(collaborations.filter(c => c.state === 'active').map(async c =>
    ((await call(`collaborations/${enc(c.id)}`)).models ?? []).map(m => `collaborations/${enc(c.id)}/models/${enc(m.model)}`)))).flat();
  const summaries = await Promise.all([...models.map(m => `tenants/${tenant}/models/${enc(m.model)}`), ...pooled].map(path => call(path)));
  if (!context.isCurrent()) return;
  const runs = [
    ...details.flatMap(d => d.runs.map(r => ({ id: r.runId, kind: 'ingest', what: `${r.dataset}: ${r.fileName}`, at: r.receivedAt, status: r.status }))),
    ...summaries.flatMap(s => s.versions.filter(v => v.runId).map(v => ({ id: v.runId, kind: v.federated ? 'federated' : 'training', what: `${v.model} v${v.version}`, at: v.createdAt, status: 'registered' }))),
  ].sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
  const id = h('input', { id: 'run-id', name: 'run-id', required: true, spellcheck: 'false' });
  const form = h('form', { class: 'inline', onsubmit: e => { e.preventDefault(); location.hash = `#/runs/${enc(id.value.trim())}`; } },
    h('label', { for: 'run-id' }, 'Run id'), id, h('button', { type: 'submit' }, 'Open'));
  replace(main, h('h1', {}, 'Runs'), section('Open a run', form), section('Recent runs', table('Ingest and training runs', [
    { title: 'Run', cell: r => link(`#/runs/${enc(r.id)}`, r.id) },
    { title: 'Kind', cell: r => r.kind },
    { title: 'What', cell: r => r.what },
    { title: 'When', cell: r => time(r.at) },
    { title: 'Outcome', cell: r => h('span', { class: `pill ${r.status}` }, r.status) },
  ], runs)));
}

/** One run, refreshed every two seconds until it ends. */
export async function runView(main, context, runId) {
  loading(main, `Run ${runId}`);
  for (;;) {
    const run = await call(`runs/${enc(runId)}`);
    if (!context.isCurrent()) return;
    draw(main, run);
    if (finished.has(run.status)) return;
    context.say(`Run ${run.status.toLowerCase()}: ${run.progress?.stage ?? ''}`);
    await new Promise(resolve => setTimeout(resolve, 2000));
    if (!context.isCurrent()) return;
  }
}

function draw(main, run) {
  const progress = run.progress ?? {};
  const details = run.details ?? {};
  const points = (details.Rounds ?? []).map(r => ({ round: r.Round, metric: r.Metric }));
  replace(main,
    h('h1', {}, `Run ${run.runId}`),
    section('Progress',
      facts([['Kind', run.kind], ['Collaboration', run.collaboration ? link(`#/collaborations/${enc(run.collaboration)}`, run.collaboration) : null], ['Status', h('span', { class: `pill ${run.status}`, id: 'run-status' }, run.status)],
        ['Stage', progress.stage], ['Started', time(run.createdAt)], ['Last update', time(run.lastUpdatedAt)]]),
      progress.total ? h('div', { class: 'progress-row' },
        h('progress', { id: 'run-progress', max: progress.total, value: progress.done, 'aria-label': 'Steps done' }),
        h('span', {}, `${number(progress.done)} of ${number(progress.total)} steps`)) : null,
      run.error ? h('div', { class: 'error', role: 'alert' }, h('strong', {}, 'Error: '), typeof run.error === 'string' ? run.error : JSON.stringify(run.error)) : null),
    points.length ? section('Federated rounds', rounds(details.Metric ?? 'metric', points), table('Rounds', [
      { title: 'Round', numeric: true, cell: r => number(r.Round) },
      { title: 'Metric', numeric: true, cell: r => number(r.Metric) },
      { title: 'Reporting', numeric: true, cell: r => number(r.Reporting) },
      { title: 'Skipped', cell: r => (r.Skipped ?? []).join(', ') },
    ], details.Rounds)) : null,
    details.Folds ? section('Folds', table('Folds of each candidate', [
      { title: 'Candidate', cell: f => f.Candidate ?? f.candidate },
      { title: 'Fold', numeric: true, cell: f => number(f.Fold ?? f.fold) },
      { title: 'Metric', numeric: true, cell: f => number(f.Metric ?? f.metric) },
      { title: 'Error', cell: f => f.Error ?? f.error ?? '' },
    ], details.Folds)) : null,
    run.result ? section('Result', resultOf(run.result, run.collaboration)) : null);
}

function resultOf(result, collaboration) {
  if (result.Model && result.Version) {
    const target = collaboration ? `#/collaborations/${enc(collaboration)}/models/${enc(result.Model)}` : `#/models/${enc(result.Model)}`;
    return [facts(Object.entries(result).filter(([, v]) => typeof v !== 'object' || v === null)),
      h('p', {}, link(`${target}?version=${result.Version}`, `Open ${result.Model} v${result.Version}`))];
  }
  return facts(Object.entries(result).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v]));
}
