// Builds elements from data without ever parsing data as HTML: every string becomes a text node.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(container, ...children) {
  container.replaceChildren();
  append(container, children);
}

/** A table with a caption, header cells with scope and one row per item. */
export function table(caption, columns, rows, rowAttributes = () => ({})) {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map(c => h('th', { scope: 'col', class: c.numeric ? 'num' : null }, c.title)))),
      h('tbody', {}, rows.length === 0
        ? h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, 'None yet.'))
        : rows.map(row => h('tr', rowAttributes(row), columns.map(c => h('td', { class: c.numeric ? 'num' : null }, c.cell(row))))))));
}

export function section(title, ...children) {
  return h('section', { class: 'card', 'aria-label': title }, h('h2', {}, title), ...children);
}

export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export const number = (value, digits = 4) =>
  value === null || value === undefined || Number.isNaN(value) ? '–'
    : Number.isInteger(value) ? value.toLocaleString('en') : Number(value).toFixed(digits);

export const percent = value => value === null || value === undefined ? '–' : `${Number(value).toFixed(1)} %`;

export const time = value => value ? new Date(value).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' }) : '–';

export const link = (href, text) => h('a', { href }, text);

export function loading(container, label) {
  replace(container, h('section', { class: 'card placeholder', 'aria-busy': 'true' }, h('h1', {}, label), h('p', {}, 'Loading…')));
}
