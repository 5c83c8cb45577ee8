// Deployment: the Helm chart rendered with other values (helm is not installed here, so by the
// generator's renderer, which refuses template syntax outside the subset the chart uses), the
// plain manifests applied to the sandbox with kubectl, and the container image's recipe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { loadChart, renderChart } from '../generator/helm.ts';
import { loadPolicy } from '../runtime/policy.ts';
import { startSandbox, type Sandbox } from '../runtime/sandbox/index.ts';
import { hasKubectl, kubectlWith } from './helpers/kubectl.ts';

const ROOT = join(import.meta.dirname, '..');
const chart = loadChart(join(ROOT, 'generated/deploy/helm/kubeflow-mcp'));
const merge = (a: any, b: any): any => (b && typeof b === 'object' && !Array.isArray(b) ? Object.fromEntries([...new Set([...Object.keys(a ?? {}), ...Object.keys(b)])].map((k) => [k, k in b ? merge(a?.[k], b[k]) : a[k]])) : b);
const render = (overrides: object = {}) => parseAllDocuments(renderChart(chart.templates, merge(chart.values, overrides), chart.chart)).map((d) => d.toJSON()).filter(Boolean);
const find = (docs: any[], kind: string, name?: string) => docs.filter((d) => d.kind === kind && (!name || d.metadata.name === name));
const env = (docs: any[]) => Object.fromEntries(find(docs, 'Deployment')[0].spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

describe('the Helm chart', () => {
  it('renders, with its default values, exactly the committed plain manifests', () => {
    const committed = readFileSync(join(ROOT, 'generated/deploy/kubeflow-mcp.yaml'), 'utf8');
    expect(committed.endsWith(renderChart(chart.templates, chart.values, chart.chart))).toBe(true);
  });

  it('runs the server unprivileged, read-only, probed, behind a token and a NetworkPolicy by default', () => {
    const docs = render();
    const pod = find(docs, 'Deployment')[0].spec.template.spec;
    const c = pod.containers[0];
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.args).toEqual(expect.arrayContaining(['--transport=http', '--host=0.0.0.0', '--persona=readonly']));
    expect(env(docs).KUBEFLOW_MCP_AUTH_TOKEN).toEqual({ secretKeyRef: { name: 'kubeflow-mcp-token', key: 'token' } });
    expect(env(docs)).not.toHaveProperty('KUBEFLOW_MCP_ALLOW_UNAUTHENTICATED');
    expect(find(docs, 'NetworkPolicy')).toHaveLength(1);
    expect(find(docs, 'ClusterRoleBinding', 'kubeflow-mcp-readonly')[0].roleRef.name).toBe('kubeflow-mcp-readonly');
    expect(find(docs, 'ClusterRole', 'kubeflow-mcp-impersonator')).toHaveLength(0);
  });

  it('carries the persona roles the specs generate', () => {
    const docs = render();
    for (const persona of ['readonly', 'data-scientist', 'ml-engineer', 'platform-admin']) {
      const generated = parseAllDocuments(readFileSync(join(ROOT, `generated/rbac/${persona}.yaml`), 'utf8')).map((d) => d.toJSON());
      for (const role of generated) expect(find(docs, 'ClusterRole', role.metadata.name)[0].rules).toEqual(role.rules);
    }
  });

  it('renders a team setup: JWTs, a policy, impersonation, per-namespace bindings, replicas', async () => {
    const policy = { policy: { namespaces: ['team-a', 'team-b'] }, identity: { impersonate: true, callers: [{ match: { groups: ['ml'] }, persona: 'ml-engineer', namespaces: ['team-a'] }] } };
    const docs = render({ persona: 'data-scientist', namespaces: ['team-a', 'team-b'], stateless: true, replicas: 3, impersonation: { enabled: true }, policy, auth: { tokenSecret: '', jwt: { jwksUrl: 'https://login.example.test/keys', issuer: 'https://login.example.test', audience: 'kubeflow-mcp' } }, networkPolicy: { enabled: false } });
    const deploy = find(docs, 'Deployment')[0];
    expect(deploy.spec.replicas).toBe(3);
    expect(deploy.spec.template.spec.containers[0].args).toContain('--stateless');
    expect(env(docs)).toMatchObject({ KUBEFLOW_MCP_JWKS_URL: 'https://login.example.test/keys', KUBEFLOW_MCP_JWT_ISSUER: 'https://login.example.test', KUBEFLOW_MCP_JWT_AUDIENCE: 'kubeflow-mcp', KUBEFLOW_MCP_POLICY: '/etc/kubeflow-mcp/policy.yaml' });
    expect(env(docs)).not.toHaveProperty('KUBEFLOW_MCP_AUTH_TOKEN');
    expect(find(docs, 'RoleBinding').filter((b) => b.roleRef.name === 'kubeflow-mcp-data-scientist').map((b) => b.metadata.namespace)).toEqual(['team-a', 'team-b']);
    expect(find(docs, 'ClusterRoleBinding', 'kubeflow-mcp-data-scientist')).toHaveLength(0);
    expect(find(docs, 'ClusterRole', 'kubeflow-mcp-impersonator')[0].rules).toEqual([{ apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] }]);
    expect(find(docs, 'NetworkPolicy')).toHaveLength(0);
    // The policy the ConfigMap carries is one the server accepts, unchanged.
    const dir = mkdtempSync(join(tmpdir(), 'kfmcp-chart-'));
    writeFileSync(join(dir, 'policy.yaml'), find(docs, 'ConfigMap')[0].data['policy.yaml']);
    expect(await loadPolicy(join(dir, 'policy.yaml'))).toEqual(policy);
  });

  it('refuses values that would serve without authentication or check JWTs loosely', () => {
    expect(() => render({ auth: { tokenSecret: '' } })).toThrow(/set auth\.jwt\.jwksUrl or auth\.tokenSecret/);
    expect(() => render({ auth: { jwt: { jwksUrl: 'https://login.example.test/keys' } } })).toThrow(/auth\.jwt\.issuer is required/);
    expect(env(render({ auth: { tokenSecret: '', allowUnauthenticated: true } })).KUBEFLOW_MCP_ALLOW_UNAUTHENTICATED).toBe('1');
  });

  it('refuses template syntax its renderer does not know, instead of rendering it wrongly', () => {
    expect(() => renderChart({ 'x.yaml': 'a: {{ .Values.a | sha256sum }}' }, { a: 1 }, {})).toThrow(/sha256sum/);
    expect(() => renderChart({ 'x.yaml': '{{ if .Values.a }}a' }, { a: 1 }, {})).toThrow(/missing \{\{ end \}\}/);
  });
});

describe('the container image', () => {
  it('builds in one stage and runs in another, as a numeric non-root user', () => {
    const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
    const froms = lines.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const last = lines.slice(lines.lastIndexOf(froms.at(-1)!));
    expect(last.find((l) => l.startsWith('USER '))).toMatch(/^USER [1-9]\d*:[1-9]\d*$/);
    expect(last.some((l) => /^(RUN|COPY) .*npm (ci|install)/.test(l))).toBe(false);
    // The chart's probes and port are what the image serves.
    expect(last.join('\n')).toContain('--port=8000');
    expect(parse(readFileSync(join(ROOT, 'generated/deploy/helm/kubeflow-mcp/values.yaml'), 'utf8')).image.repository).toBeTruthy();
  });
});

describe.skipIf(!hasKubectl)('the plain manifests on the sandbox', () => {
  let sb: Sandbox;
  let kubeconfig = '';
  beforeAll(async () => {
    sb = await startSandbox({ timeScale: 0.02, tls: true });
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'kfmcp-deploy-')), 'kubeconfig');
    writeFileSync(kubeconfig, sb.kubeconfig);
  });
  afterAll(async () => { await sb?.stop(); });

  it('apply with kubectl, and create what they say', async () => {
    const { kubectl } = kubectlWith(kubeconfig);
    await kubectl('create', 'namespace', 'kubeflow-mcp');
    const out = await kubectl('apply', '--server-side', '-f', join(ROOT, 'generated/deploy/kubeflow-mcp.yaml'));
    expect(out).toContain('deployment.apps/kubeflow-mcp serverside-applied');
    const docs = render();
    const listed = JSON.parse(await kubectl('get', 'deployments,services,serviceaccounts,networkpolicies,roles,rolebindings', '-n', 'kubeflow-mcp', '-o', 'json')).items;
    for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'NetworkPolicy', 'Role', 'RoleBinding']) {
      expect(listed.filter((o: any) => o.kind === kind).map((o: any) => o.metadata.name).sort(), kind).toEqual(expect.arrayContaining(find(docs, kind).map((d) => d.metadata.name)));
    }
    const roles = JSON.parse(await kubectl('get', 'clusterroles', '-l', 'app.kubernetes.io/name=kubeflow-mcp', '-o', 'json')).items.map((r: any) => r.metadata.name);
    expect(roles).toEqual(expect.arrayContaining(['kubeflow-mcp-readonly', 'kubeflow-mcp-platform-admin-cluster']));
    // Applying again changes nothing.
    expect(await kubectl('apply', '--server-side', '-f', join(ROOT, 'generated/deploy/kubeflow-mcp.yaml'))).toContain('serverside-applied');
  });
});
