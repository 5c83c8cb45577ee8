// The API server's wire rules, one table: how query parameters are read (booleans, integers),
// resourceVersionMatch for lists and watches, and the watch-list protocol (sendInitialEvents with
// allowWatchBookmarks) that client-go's WatchListClient speaks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { typeNamed } from '../sandbox/resources.ts';

let sb: Sandbox;
const NS = 'wire';
const base = () => `${sb.url}/api/v1/namespaces/${NS}/configmaps`;
const post = (path: string, body: unknown, query = '') =>
  fetch(`${sb.url}${path}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: name } });

/** Lines of a response until it ends or `n` lines came (a watch is then cut), within `ms`. */
async function lines(url: string, n = Infinity, ms = 3000): Promise<{ status: number; lines: any[]; body?: any }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const res = await fetch(url, { signal: ac.signal });
  const out: any[] = [];
  let text = '';
  try {
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      let i;
      while ((i = text.indexOf('\n')) >= 0) {
        const l = text.slice(0, i);
        text = text.slice(i + 1);
        if (l.trim()) out.push(JSON.parse(l));
      }
      if (out.length >= n) {
        ac.abort();
        break;
      }
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  } finally {
    clearTimeout(timer);
  }
  if (text.trim() && !out.length) return { status: res.status, lines: [], body: JSON.parse(text) };
  return { status: res.status, lines: out };
}
const isWatch = (r: { lines: any[]; body?: any }) =>
  r.lines.length > 0 && r.lines.every((l) => typeof l.type === 'string');
const isList = (r: { lines: any[]; body?: any }) =>
  r.body?.kind === 'ConfigMapList' || r.lines[0]?.kind === 'ConfigMapList';

beforeAll(async () => {
  sb = await startSandbox({ timeScale: 0.05 });
  expect(
    (await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).status,
  ).toBe(201);
  for (const n of ['a', 'b', 'c']) expect((await post(`/api/v1/namespaces/${NS}/configmaps`, cm(n))).status).toBe(201);
});
afterAll(() => sb?.stop());

describe('query booleans: only "0" and "false" (any case) are false, as the API server converts them', () => {
  // The API server does not use strconv.ParseBool here: every ParseBool true form is true, and so
  // is any other value (even "f" or ""); only a missing parameter, "0" and "false"/"False"/... are false.
  const rows: [string, boolean][] = [
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['t', true],
    ['T', true],
    ['1', true],
    ['yes', true],
    ['f', true],
    ['', true],
    ['false', false],
    ['False', false],
    ['FALSE', false],
    ['fAlSe', false],
    ['0', false],
  ];
  it.each(rows)('watch=%j watches: %s', async (value, watches) => {
    const r = await lines(`${base()}?watch=${encodeURIComponent(value)}&timeoutSeconds=5`, 3);
    expect(r.status).toBe(200);
    if (watches) {
      expect(isWatch(r)).toBe(true);
      expect(r.lines.map((l) => l.object.metadata.name)).toEqual(['a', 'b', 'c']);
    } else expect(isList(r)).toBe(true);
  });

  // Each watch runs out its 2 s to show what it sent; independent, so they run at once.
  it.concurrent.each([
    ['true', true],
    ['1', true],
    ['True', true],
    ['0', false],
    ['False', false],
  ] as [string, boolean][])('allowWatchBookmarks=%j sends bookmarks: %s', async (value, bookmarks) => {
    const r = await lines(`${base()}?watch=1&allowWatchBookmarks=${value}&timeoutSeconds=2`, Infinity, 4000);
    expect(r.lines.some((l) => l.type === 'BOOKMARK')).toBe(bookmarks);
  });

  it('pod log booleans follow the same rule (timestamps=True, previous=0)', async () => {
    const pod = sb.store.list(typeNamed('pods'), 'kubeflow-system')[0];
    const url = `${sb.url}/api/v1/namespaces/kubeflow-system/pods/${pod.metadata.name}/log`;
    const stamped = await (await fetch(`${url}?timestamps=True&previous=0&tailLines=1`)).text();
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
    const plain = await (await fetch(`${url}?timestamps=FALSE&tailLines=1`)).text();
    expect(plain).not.toMatch(/^\d{4}-/);
  });
});

describe('query integers: strconv.ParseInt, base 10', () => {
  const rows: [string, string, number | string][] = [
    // [parameter, value, items listed or the 400 message]
    ['limit', '2', 2],
    ['limit', '+2', 2],
    ['limit', '0', 3],
    ['limit', '-1', 3],
    ['limit', '007', 3],
    ['limit', 'abc', 'strconv.ParseInt: parsing "abc": invalid syntax'],
    ['limit', '1.5', 'strconv.ParseInt: parsing "1.5": invalid syntax'],
    ['limit', ' 1', 'strconv.ParseInt: parsing " 1": invalid syntax'],
    ['limit', '0x10', 'strconv.ParseInt: parsing "0x10": invalid syntax'],
    ['limit', '99999999999999999999', 'strconv.ParseInt: parsing "99999999999999999999": value out of range'],
    ['timeoutSeconds', 'soon', 'strconv.ParseInt: parsing "soon": invalid syntax'],
  ];
  it.each(rows)('%s=%j', async (param, value, expected) => {
    const res = await fetch(`${base()}?${param}=${encodeURIComponent(value)}`);
    const body: any = await res.json();
    if (typeof expected === 'number') {
      expect(res.status).toBe(200);
      expect(body.items).toHaveLength(expected);
      if (expected < 3) expect(body.metadata.continue).toBeTruthy();
    } else {
      expect(res.status).toBe(400);
      expect(body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400, message: expected });
    }
  });

  it.each([
    ['tailLines', 'x'],
    ['limitBytes', '1e3'],
    ['sinceSeconds', '1.0'],
  ])('pod log %s=%j is a 400', async (param, value) => {
    const pod = sb.store.list(typeNamed('pods'), 'kubeflow-system')[0];
    const res = await fetch(
      `${sb.url}/api/v1/namespaces/kubeflow-system/pods/${pod.metadata.name}/log?${param}=${value}`,
    );
    expect(res.status).toBe(400);
    expect((await res.json()).message).toBe(`strconv.ParseInt: parsing "${value}": invalid syntax`);
  });
});

describe('resourceVersionMatch and sendInitialEvents: the checks of list and watch options', () => {
  const LIST = 'ListOptions.meta.k8s.io "" is invalid: ';
  const rows: [string, string][] = [
    [
      'resourceVersionMatch=Exact',
      'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
    ],
    [
      'resourceVersionMatch=Exact&resourceVersion=0',
      'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
    ],
    [
      'resourceVersionMatch=Newest&resourceVersion=5',
      'resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""',
    ],
    [
      'resourceVersionMatch=NotOlderThan&resourceVersion=5&continue=abc',
      'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided',
    ],
    ['sendInitialEvents=true', 'sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list'],
    [
      'watch=true&resourceVersionMatch=NotOlderThan',
      'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
    ],
    [
      'watch=true&sendInitialEvents=true',
      'resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
    ],
    [
      'watch=true&sendInitialEvents=false&resourceVersionMatch=Exact',
      '[resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"]',
    ],
  ];
  it.each(rows)('%s is a 422', async (query, message) => {
    const res = await fetch(`${base()}?${query}`);
    expect(res.status).toBe(422);
    const body: any = await res.json();
    expect(body).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      code: 422,
      message: LIST + message,
      details: { group: 'meta.k8s.io', kind: 'ListOptions' },
    });
    expect(body.details.causes.every((c: any) => c.field)).toBe(true);
  });

  it('lists at an exact older resourceVersion, and refuses one from the future', async () => {
    const before: any = await (await fetch(base())).json();
    expect((await post(`/api/v1/namespaces/${NS}/configmaps`, cm('d'))).status).toBe(201);
    const then: any = await (
      await fetch(`${base()}?resourceVersion=${before.metadata.resourceVersion}&resourceVersionMatch=Exact`)
    ).json();
    expect(then.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(then.items.map((o: any) => o.metadata.name)).toEqual(['a', 'b', 'c']);
    const now: any = await (
      await fetch(`${base()}?resourceVersion=${before.metadata.resourceVersion}&resourceVersionMatch=NotOlderThan`)
    ).json();
    expect(now.items.map((o: any) => o.metadata.name)).toEqual(['a', 'b', 'c', 'd']);
    const future = await fetch(
      `${base()}?resourceVersion=${Number(now.metadata.resourceVersion) + 1000}&resourceVersionMatch=NotOlderThan`,
    );
    expect(future.status).toBe(504);
    expect(await future.json()).toMatchObject({
      reason: 'Timeout',
      message: `Too large resource version: ${Number(now.metadata.resourceVersion) + 1000}, current: ${now.metadata.resourceVersion}`,
    });
    await fetch(`${base()}/d`, { method: 'DELETE' });
  });

  it('watch-list: the current objects as ADDED, then a bookmark marking their end, then changes', async () => {
    const pending = lines(
      `${base()}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=10`,
      5,
      5000,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect((await post(`/api/v1/namespaces/${NS}/configmaps`, cm('e'))).status).toBe(201);
    const r = await pending;
    expect(r.lines.slice(0, 3).map((l) => `${l.type} ${l.object.metadata.name}`)).toEqual([
      'ADDED a',
      'ADDED b',
      'ADDED c',
    ]);
    expect(r.lines[3]).toMatchObject({
      type: 'BOOKMARK',
      object: {
        kind: 'ConfigMap',
        apiVersion: 'v1',
        metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } },
      },
    });
    expect(r.lines[4]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'e' } } });
  });

  it('sendInitialEvents=false from a resourceVersion: only what changed after it', async () => {
    const rv = (await (await fetch(base())).json()).metadata.resourceVersion;
    const pending = lines(
      `${base()}?watch=true&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&resourceVersion=${rv}&timeoutSeconds=10`,
      1,
      5000,
    );
    await new Promise((r) => setTimeout(r, 300));
    await fetch(`${base()}/e`, { method: 'DELETE' });
    const r = await pending;
    expect(r.lines.map((l) => `${l.type} ${l.object.metadata.name}`)).toEqual(['DELETED e']);
  });
});

describe('dryRun and fieldValidation values', () => {
  it.each([
    ['?dryRun=All', 201, undefined],
    [
      '?dryRun=yes',
      422,
      'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"yes"}: supported values: "All"',
    ],
    [
      '?fieldValidation=Loud',
      422,
      'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "Loud": supported values: "Ignore", "Strict", "Warn"',
    ],
  ])('POST %s', async (query, status, message) => {
    const res = await post(`/api/v1/namespaces/${NS}/configmaps`, cm('dry'), query);
    expect(res.status).toBe(status);
    if (message) expect((await res.json()).message).toBe(message);
    expect((await fetch(`${base()}/dry`)).status).toBe(404);
  });
});
