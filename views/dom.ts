// A few DOM helpers: elements from tag, attributes and children (text is always text, never HTML).
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined | ((e: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else if (typeof v === 'string') el.setAttribute(k, v);
  }
  for (const c of children)
    if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  return el;
}

/** A chart from chart.ts's SVG text (made by our own code from numbers and escaped labels). */
export function svg(text: string, label: string): HTMLElement {
  const box = h('div', { class: 'chart', role: 'img', 'aria-label': label });
  box.innerHTML = text;
  return box;
}

export const section = (title: string, ...children: Child[]) => h('section', {}, h('h2', {}, title), ...children);

/** A table from column names and rows of cells; scrolls sideways on a narrow screen. */
export function table(
  columns: string[],
  rows: Child[][],
  rowAttrs: (i: number) => Record<string, string> = () => ({}),
): HTMLElement {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...rows.map((r, i) => h('tr', rowAttrs(i), ...r.map((c) => h('td', {}, c))))),
    ),
  );
}

export const badge = (status: string) =>
  h('span', { class: `badge s-${status.toLowerCase().replace(/[^a-z]/g, '')}` }, status);

/** A key/value list of an object's plain fields. */
export function facts(entries: Array<[string, Child]>): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    ...entries
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60),
    hr = Math.floor(m / 60);
  return hr ? `${hr} h ${m % 60} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}
