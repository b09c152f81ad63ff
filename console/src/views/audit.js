import { call, enc } from '../api.js';
import { h, replace, table, section, facts, number, time, loading } from '../dom.js';

const pageSize = 100;

export async function auditView(main, context, from = 1) {
  loading(main, 'Audit');
  const tenant = enc(context.tenant);
  const [verification, page] = await Promise.all([
    call(`tenants/${tenant}/audit/verify`), call(`tenants/${tenant}/audit?from=${from}&max=${pageSize}`)]);
  if (!context.isCurrent()) return;
  const broken = verification.firstBrokenSeq;
  const pager = h('p', { class: 'pager' },
    from > 1 ? h('button', { type: 'button', onclick: () => auditView(main, context, Math.max(1, from - pageSize)) }, 'Earlier') : null,
    page.nextSeq ? h('button', { type: 'button', onclick: () => auditView(main, context, page.nextSeq) }, 'Later') : null);
  replace(main, h('h1', {}, 'Audit'),
    section('Verification',
      h('p', { id: 'audit-verdict', class: verification.valid ? 'ok-text' : 'error', role: verification.valid ? null : 'alert' },
        verification.valid ? `The chain of ${number(verification.entries)} entries verifies: no entry was changed, removed or reordered.`
          : `The chain is broken${broken ? ` at entry ${broken}` : ''}: ${verification.problem ?? 'see the entry marked below'}.`),
      facts([['Entries', number(verification.entries)], ['Signed tree heads', number(verification.signedHeads)],
        ['Latest signed size', verification.latestSignedSize ? number(verification.latestSignedSize) : '–'],
        ['First broken entry', broken ?? 'none']])),
    section(`Entries ${from}–${from + page.entries.length - 1}`, pager, table('Audit entries, oldest first', [
      { title: 'Seq', numeric: true, cell: e => e.seq === broken ? h('strong', {}, `${e.seq} ✗`) : number(e.seq) },
      { title: 'Time', cell: e => time(e.time) },
      { title: 'Actor', cell: e => e.actor },
      { title: 'Action', cell: e => e.action },
      { title: 'Resource', cell: e => e.resource },
      { title: 'Purpose', cell: e => e.purpose ?? '' },
      { title: 'Outcome', cell: e => e.outcome ?? '' },
      { title: 'Hash', cell: e => h('code', { title: e.hash }, e.hash.slice(0, 12)) },
    ], page.entries, e => ({ class: e.seq === broken ? 'broken' : null }))));
}
