import { call, enc } from '../api.js';
import { h, replace, table, section, facts, number, percent, time, link, loading } from '../dom.js';
import { shares } from '../charts.js';

export async function collaborationsView(main, context) {
  loading(main, 'Collaborations');
  const { collaborations } = await call('collaborations');
  if (!context.isCurrent()) return;
  replace(main, h('h1', {}, 'Collaborations'), section('Collaborations this tenant belongs to', table('Agreements', [
    { title: 'Collaboration', cell: c => link(`#/collaborations/${enc(c.id)}`, `${c.name} (${c.id})`) },
    { title: 'State', cell: c => h('span', { class: `pill ${c.state}` }, c.state) },
    { title: 'Mode', cell: c => c.mode },
    { title: 'Allocation', cell: c => c.allocation },
    { title: 'Members', cell: c => c.currentMembers.join(', ') },
    { title: 'Awaiting', cell: c => c.awaitingAcceptance.join(', ') || '–' },
  ], collaborations)));
}

export async function collaborationView(main, context, id) {
  loading(main, `Collaboration ${id}`);
  const view = await call(`collaborations/${enc(id)}`);
  const c = view.collaboration;
  const data = c.state === 'active' ? await call(`collaborations/${enc(id)}/data`).catch(() => null) : null;
  const reports = await Promise.all((view.models ?? []).map(async m => {
    const { contributions } = await call(`collaborations/${enc(id)}/models/${enc(m.model)}/contributions`);
    const latest = contributions.at(-1);
    return { model: m.model, report: latest ? await call(`collaborations/${enc(id)}/models/${enc(m.model)}/contributions/${enc(latest.id)}`) : null };
  }));
  if (!context.isCurrent()) return;
  const ledgerBox = h('div', { id: 'ledger' });
  replace(main,
    h('h1', {}, `Collaboration ${c.name}`),
    section('Agreement',
      facts([['Id', c.id], ['State', h('span', { class: `pill ${c.state}` }, c.state)], ['Revision', c.revision], ['Mode', c.mode],
        ['Allocation', c.allocation], ['Task', `${c.task.label} (${c.task.type ?? 'inferred'}, ${c.task.metric ?? 'default metric'})`],
        ['Proposed by', c.proposedBy], ['Updated', time(c.updatedAt)]]),
      table('Members and their acceptance of the current terms', [
        { title: 'Member', cell: m => m.tenant },
        { title: 'Accepted', cell: m => m.acceptedAt ? time(m.acceptedAt) : h('span', { class: 'pill proposed' }, 'awaiting') },
        { title: 'Left', cell: m => m.leftAt ? time(m.leftAt) : '–' },
      ], c.members),
      facts(Object.entries(c.terms).map(([k, v]) => [k, v === null ? 'default' : String(v)]))),
    section('Contributed data', dataTable(view, data)),
    section('Models', table('Models trained together', [
      { title: 'Model', cell: m => link(`#/collaborations/${enc(id)}/models/${enc(m.model)}`, m.model) },
      { title: 'Latest', numeric: true, cell: m => `v${m.latestVersion}` },
      { title: 'Production', numeric: true, cell: m => m.productionVersion ? `v${m.productionVersion}` : 'none' },
    ], view.models ?? [])),
    reports.map(r => contributionSection(r.model, r.report)),
    section('Ledger', ledgerForm(id, ledgerBox), ledgerBox));
  await loadLedger(id, ledgerBox, '', '');
}

function dataTable(view, data) {
  const perMember = new Map((data?.members ?? []).map(m => [m.member, m]));
  return [
    data ? facts([['Shared features', number(data.sharedFeatures.length)],
      ['Type conflicts', data.typeConflicts.length ? data.typeConflicts.map(t => JSON.stringify(t)).join('; ') : 'none'],
      ['Ready to train', view.readyToTrain ? 'yes' : 'no']]) : null,
    table('Data each member granted to the collaboration, and whether it fits the task', [
      { title: 'Member', cell: d => d.member },
      { title: 'Datasets', cell: d => d.datasets.map(x => `${x.dataset} v${x.version} (${x.purposes.join(', ')})`).join('; ') || 'none granted' },
      { title: 'Rows', numeric: true, cell: d => number(d.rows) },
      { title: 'Compatible', cell: d => h('span', { class: `pill ${d.compatible ? 'ok' : 'bad'}` }, d.compatible ? 'yes' : 'no') },
      { title: 'Problems', cell: d => [...d.problems, ...(perMember.get(d.member)?.missingFeatures?.length ? [`missing ${perMember.get(d.member).missingFeatures.join(', ')}`] : [])].join('; ') },
    ], view.data ?? []),
  ];
}

function contributionSection(model, report) {
  if (!report) return section(`Contributions to ${model}`, h('p', {}, 'No contribution report yet.'));
  const total = report.members.reduce((sum, m) => sum + m.share, 0);
  const utilitySpread = report.members.reduce((sum, m) => sum + m.value, 0);
  // A sampled estimate's standard error, as a 95 % interval on the share (exact methods have none).
  const intervals = report.members.map(m => m.standardError && utilitySpread
    ? [Math.max(0, m.share - 196 * m.standardError / utilitySpread), m.share + 196 * m.standardError / utilitySpread] : null);
  return section(`Contributions to ${model} v${report.version} (${report.method})`,
    facts([['Metric', report.metric], ['Empty coalition', number(report.emptyUtility)], ['All members', number(report.grandUtility)],
      ['Exact', report.exact ? 'yes' : `no, ${report.samples ?? '?'} samples${report.converged ? ', converged' : ''}`], ['Computed', time(report.createdAt)]]),
    shares(report.members, intervals),
    table('Share of each member', [
      { title: 'Member', cell: m => m.member },
      { title: 'Value', numeric: true, cell: m => number(m.value) },
      { title: 'Standard error', numeric: true, cell: m => m.standardError === null ? 'exact' : number(m.standardError) },
      { title: 'Share', numeric: true, cell: m => h('span', { class: 'share' }, percent(m.share)) },
      { title: 'Rows', numeric: true, cell: m => number(m.rows) },
    ], report.members),
    h('p', { class: 'total', id: `share-total-${model}` }, `Total: ${percent(total)}`),
    report.coalitions?.length ? h('details', { open: report.coalitions.length <= 16 },
      h('summary', {}, `Coalitions evaluated (${report.coalitions.length})`),
      table('Utility of each coalition of members', [
        { title: 'Members', cell: x => x.members.length ? x.members.join(' + ') : '(none)' },
        { title: 'Score', numeric: true, cell: x => number(x.score) },
        { title: 'Utility', numeric: true, cell: x => number(x.utility) },
        { title: 'Note', cell: x => x.note ?? '' },
      ], report.coalitions)) : null);
}

function ledgerForm(id, box) {
  const from = h('input', { id: 'ledger-from', type: 'date' });
  const to = h('input', { id: 'ledger-to', type: 'date' });
  return h('form', { class: 'inline', onsubmit: e => { e.preventDefault(); loadLedger(id, box, from.value, to.value); } },
    h('label', { for: 'ledger-from' }, 'From'), from, h('label', { for: 'ledger-to' }, 'To'), to, h('button', { type: 'submit' }, 'Show period'));
}

async function loadLedger(id, box, from, to) {
  const query = new URLSearchParams();
  if (from) query.set('from', new Date(from).toISOString());
  if (to) query.set('to', new Date(`${to}T23:59:59.999Z`).toISOString());
  try {
    const ledger = await call(`collaborations/${enc(id)}/ledger${query.size ? `?${query}` : ''}`);
    replace(box,
      facts([['Period', `${time(ledger.from)} – ${time(ledger.to)}`], ['Predictions', number(ledger.predictions)],
        ['Credits', number(ledger.credits)], ['Allocated by', `${ledger.allocationMethod ?? '–'} (${ledger.contributionReport ?? 'no report'})`]]),
      table('Usage charged and credits allocated per member', [
        { title: 'Member', cell: m => m.member },
        { title: 'Requests', numeric: true, cell: m => number(m.requests) },
        { title: 'Predictions', numeric: true, cell: m => number(m.predictions) },
        { title: 'Charged', numeric: true, cell: m => number(m.creditsCharged) },
        { title: 'Share', numeric: true, cell: m => percent(m.share) },
        { title: 'Allocated', numeric: true, cell: m => number(m.creditsAllocated) },
        { title: 'Net', numeric: true, cell: m => number(m.net) },
      ], ledger.members));
  } catch (e) {
    replace(box, h('p', { class: 'error', role: 'alert' }, e.message));
  }
}
