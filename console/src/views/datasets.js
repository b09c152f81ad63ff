import { call, enc } from '../api.js';
import { h, replace, table, section, facts, number, time, link, loading } from '../dom.js';
import { histogram } from '../charts.js';

export async function datasetsView(main, context) {
  loading(main, 'Datasets');
  const { datasets } = await call(`tenants/${enc(context.tenant)}/datasets`);
  if (!context.isCurrent()) return;
  replace(main, h('h1', {}, 'Datasets'), section('Datasets of this tenant',
    h('p', {}, 'Files dropped into the tenant\'s ingest container are cleaned, profiled and published as versions.'),
    table('Published datasets', [
      { title: 'Dataset', cell: d => link(`#/datasets/${enc(d.dataset)}`, d.dataset) },
      { title: 'Latest version', numeric: true, cell: d => number(d.latestVersion) },
      { title: 'Updated', cell: d => time(d.updatedAt) },
    ], datasets)));
}

export async function datasetView(main, context, dataset, version) {
  loading(main, `Dataset ${dataset}`);
  const query = version ? `?version=${enc(version)}` : '';
  const detail = await call(`tenants/${enc(context.tenant)}/datasets/${enc(dataset)}${query}`);
  if (!context.isCurrent()) return;
  const selected = detail.selected;
  replace(main,
    h('h1', {}, `Dataset ${detail.dataset}`),
    section('Versions', table('Versions of the dataset', [
      { title: 'Version', cell: v => link(`#/datasets/${enc(dataset)}?version=${v.version}`, `v${v.version}`) },
      { title: 'Created', cell: v => time(v.createdAt) },
      { title: 'Rows', numeric: true, cell: v => number(v.rows) },
      { title: 'Columns', numeric: true, cell: v => number(v.columns) },
      { title: 'Label', cell: v => v.label ?? '–' },
      { title: 'Task', cell: v => v.task ?? '–' },
      { title: 'Source file', cell: v => v.sourceBlob },
    ], detail.versions, v => ({ 'aria-current': selected?.version.version === v.version ? 'true' : null }))),
    selected ? versionSections(selected) : section('No version', h('p', {}, 'Nothing published yet.')),
    section('Ingest runs', table('Files received and what became of them', [
      { title: 'File', cell: r => r.fileName },
      { title: 'Received', cell: r => time(r.receivedAt) },
      { title: 'Status', cell: r => h('span', { class: `pill ${r.status}` }, r.status) },
      { title: 'Version', numeric: true, cell: r => r.version ? `v${r.version}` : '–' },
      { title: 'Reason', cell: r => r.reason ?? '' },
      { title: 'Run', cell: r => link(`#/runs/${enc(r.runId)}`, 'progress') },
    ], detail.runs)),
    section('Rejected files', detail.rejections.length === 0
      ? h('p', {}, 'No file was rejected.')
      : detail.rejections.map(r => h('details', { class: 'rejection' },
        h('summary', {}, `${r.fileName} — ${r.reason ?? 'rejected'} (${time(r.receivedAt)})`),
        h('pre', {}, r.report)))));
}

function versionSections(selected) {
  const { version, quality, profile, schema, lineage } = selected;
  const changes = quality?.changes ?? {};
  const changed = Object.entries(changes).filter(([name, value]) => name !== 'columns' && typeof value === 'number');
  const perColumn = changes.columns ?? {};
  const kinds = Object.fromEntries((schema?.columns ?? []).map(c => [c.name, c]));
  return [
    section(`Version ${version.version}: what cleaning did`,
      h('p', { class: 'headline', id: 'rows-in-out' },
        h('span', { class: 'big' }, number(quality?.rowsIn ?? version.rows)), ' rows in → ',
        h('span', { class: 'big' }, number(quality?.rowsOut ?? version.rows)), ' rows out'),
      facts([['Label', version.label ?? 'none'], ['Task', version.task ?? '–'], ['Source sha256', version.sourceSha256],
        ['Data', version.dataBlob]]),
      table('Changes made while cleaning', [
        { title: 'Change', cell: ([name]) => words(name) },
        { title: 'Count', numeric: true, cell: ([, value]) => number(value) },
      ], changed),
      lineage?.rulesApplied ? h('details', {}, h('summary', {}, 'Rules applied'), h('ul', {}, lineage.rulesApplied.map(r => h('li', {}, r)))) : null),
    section('Schema and profile', table('Columns: type, missing values, statistics and distribution', [
      { title: 'Column', cell: p => kinds[p.name]?.isLabel ? h('strong', {}, `${p.name} (label)`) : p.name },
      { title: 'Kind', cell: p => p.kind },
      { title: 'Missing', numeric: true, cell: p => number(p.missing) },
      { title: 'Distinct', numeric: true, cell: p => `${number(p.distinct)}${p.distinctIsLowerBound ? '+' : ''}` },
      { title: 'Mean', numeric: true, cell: p => number(p.mean) },
      { title: 'Std', numeric: true, cell: p => number(p.std) },
      { title: 'Min', numeric: true, cell: p => number(p.min) },
      { title: 'Max', numeric: true, cell: p => number(p.max) },
      { title: 'Distribution', cell: p => p.histogram?.length ? histogram(p.name, p.histogram)
        : h('span', { class: 'top' }, (p.topValues ?? []).map(t => `${t.value}: ${number(t.count)}`).join(', ')) },
      { title: 'Changed', numeric: true, cell: p => cellChanges(perColumn[p.name]) },
    ], profile ?? [])),
  ];
}

function cellChanges(column) {
  if (!column) return '–';
  const total = Object.values(column).reduce((a, b) => a + b, 0);
  return total === 0 ? '0' : h('span', { title: Object.entries(column).filter(([, v]) => v).map(([k, v]) => `${words(k)}: ${v}`).join('; ') }, number(total));
}

const words = name => name.replace(/([A-Z])/g, ' $1').toLowerCase();
