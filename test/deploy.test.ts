// Deployment: the Helm chart under real Helm (the pinned binary, see test/helpers/helm.ts) over a
// matrix of values, each rendering linted strictly and applied to the sandbox with a server-side
// dry run; the values the chart must refuse; the plain manifests (real Helm's rendering with the
// defaults) applied for real; and the container image's recipe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { loadPolicy } from '../runtime/policy.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { HELM_VERSION, helm, helmErr, kubectlAt } from './helpers/helm.ts';

const ROOT = join(import.meta.dirname, '..');
const CHART_PATH = 'generated/deploy/helm/kubeflow-mcp';
const CHART = join(ROOT, CHART_PATH);
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Words of a shell command line: quotes, backslash-newline continuations (what the README uses). */
function shellWords(line: string): string[] {
  const out: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && line[i + 1] === '\n') {
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      if (word !== undefined) out.push(word);
      word = undefined;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
      continue;
    }
    word = (word ?? '') + c;
  }
  if (word !== undefined) out.push(word);
  return out;
}

// The README's `helm install` (its flags, after the release name and the chart) and its policy file example.
const install = shellWords(/^helm install (?:.*\\\n)*.*$/m.exec(README)![0]);
expect(install.slice(0, 4)).toEqual(['helm', 'install', 'kubeflow-mcp', CHART_PATH]);
const README_FLAGS = install.slice(4);
const README_POLICY = /```yaml\n(policy:\n[\s\S]*?)```/.exec(README)![1];
const work = mkdtempSync(join(tmpdir(), 'kfmcp-chart-'));
writeFileSync(join(work, 'team-policy.yaml'), README_POLICY);
const IDENTITY = {
  identity: {
    impersonate: true,
    callers: [{ match: { groups: ['ml'] }, persona: 'ml-engineer', namespaces: ['team-a'] }],
  },
  policy: { namespaces: ['team-a', 'team-b'] },
};
writeFileSync(
  join(work, 'impersonation.yaml'),
  stringify({
    persona: 'data-scientist',
    namespaces: ['team-a', 'team-b'],
    impersonation: { enabled: true },
    policy: IDENTITY,
  }),
);

const JWT = [
  '--set',
  'auth.jwt.jwksUrl=https://login.example.test/keys',
  '--set',
  'auth.jwt.issuer=https://login.example.test',
  '--set',
  'auth.jwt.audience=kubeflow-mcp',
];
const find = (docs: any[], kind: string, name?: string) =>
  docs.filter((d) => d.kind === kind && (!name || d.metadata.name === name));
const pod = (docs: any[]) => find(docs, 'Deployment')[0].spec.template.spec;
const env = (docs: any[]) =>
  Object.fromEntries(pod(docs).containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
/** The policy file the pod reads: the ConfigMap's text, loaded as the server loads it. */
async function podPolicy(docs: any[]) {
  expect(env(docs).KUBEFLOW_MCP_POLICY).toBe('/etc/kubeflow-mcp/policy.yaml');
  expect(pod(docs).volumes.find((v: any) => v.name === 'policy').configMap.name).toBe(
    find(docs, 'ConfigMap')[0].metadata.name,
  );
  const text = find(docs, 'ConfigMap')[0].data['policy.yaml'];
  const file = join(mkdtempSync(join(work, 'pod-')), 'policy.yaml');
  writeFileSync(file, text);
  return { text, policy: await loadPolicy(file) };
}

interface Case {
  name: string;
  flags: string[];
  check: (docs: any[]) => void | Promise<void>;
}
const CASES: Case[] = [
  {
    name: 'defaults',
    flags: [],
    check: (docs) => {
      const c = pod(docs).containers[0];
      expect(pod(docs).securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(c.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.image).toBe('ghcr.io/kubeflow-mcp/kubeflow-mcp:0.1.0');
      expect(c.args).toEqual(expect.arrayContaining(['--transport=http', '--host=0.0.0.0', '--persona=readonly']));
      expect(env(docs).KUBEFLOW_MCP_AUTH_TOKEN).toEqual({ secretKeyRef: { name: 'kubeflow-mcp-token', key: 'token' } });
      expect(env(docs)).not.toHaveProperty('KUBEFLOW_MCP_ALLOW_UNAUTHENTICATED');
      expect(env(docs)).not.toHaveProperty('KUBEFLOW_MCP_POLICY');
      expect(find(docs, 'ConfigMap')).toHaveLength(0);
      expect(find(docs, 'NetworkPolicy')).toHaveLength(1);
      expect(find(docs, 'ClusterRoleBinding', 'kubeflow-mcp-readonly')[0].roleRef.name).toBe('kubeflow-mcp-readonly');
      expect(find(docs, 'ClusterRole', 'kubeflow-mcp-impersonator')).toHaveLength(0);
      // One replica: no budget (it would block every drain) and no autoscaler.
      expect(find(docs, 'PodDisruptionBudget')).toHaveLength(0);
      expect(find(docs, 'HorizontalPodAutoscaler')).toHaveLength(0);
    },
  },
  {
    name: "the README's team install (JWTs, namespaces, impersonation, --set-file policy=)",
    flags: README_FLAGS,
    check: async (docs) => {
      expect(pod(docs).containers[0].image).toBe('registry.example.com/kubeflow-mcp:0.1.0');
      expect(env(docs)).toMatchObject({
        KUBEFLOW_MCP_JWKS_URL: 'https://login.example.com/keys',
        KUBEFLOW_MCP_JWT_ISSUER: 'https://login.example.com',
        KUBEFLOW_MCP_JWT_AUDIENCE: 'kubeflow-mcp',
      });
      expect(env(docs)).not.toHaveProperty('KUBEFLOW_MCP_AUTH_TOKEN');
      expect(
        find(docs, 'RoleBinding')
          .filter((b) => b.roleRef.name === 'kubeflow-mcp-readonly')
          .map((b) => b.metadata.namespace),
      ).toEqual(['team-a', 'team-b']);
      expect(find(docs, 'ClusterRoleBinding', 'kubeflow-mcp-readonly')).toHaveLength(0);
      expect(find(docs, 'ClusterRole', 'kubeflow-mcp-impersonator')[0].rules).toEqual([
        { apiGroups: [''], resources: ['users', 'groups'], verbs: ['impersonate'] },
      ]);
      // The file as written, comments and all, and a policy the server accepts.
      const { text, policy } = await podPolicy(docs);
      expect(text.trimEnd()).toBe(README_POLICY.trimEnd());
      expect(policy).toEqual(parse(README_POLICY));
    },
  },
  {
    name: "the README's replicas (stateless)",
    flags: ['--set', 'stateless=true', '--set', 'replicas=3'],
    check: (docs) => {
      expect(find(docs, 'Deployment')[0].spec.replicas).toBe(3);
      expect(pod(docs).containers[0].args).toContain('--stateless');
      // Drains take one pod at a time; the pods spread over nodes where there are several.
      const pdb = find(docs, 'PodDisruptionBudget')[0];
      expect(pdb.spec).toEqual({
        maxUnavailable: 1,
        selector: { matchLabels: find(docs, 'Deployment')[0].spec.selector.matchLabels },
      });
      expect(pod(docs).topologySpreadConstraints[0]).toMatchObject({
        topologyKey: 'kubernetes.io/hostname',
        whenUnsatisfiable: 'ScheduleAnyway',
      });
      expect(find(docs, 'HorizontalPodAutoscaler')).toHaveLength(0);
    },
  },
  {
    name: 'an autoscaler instead of a fixed count',
    flags: ['--set', 'stateless=true', '--set', 'autoscaling.enabled=true', '--set', 'autoscaling.maxReplicas=10'],
    check: (docs) => {
      const deployment = find(docs, 'Deployment')[0];
      // The autoscaler owns the count: the Deployment names none, so an upgrade does not reset it.
      expect(deployment.spec).not.toHaveProperty('replicas');
      expect(find(docs, 'HorizontalPodAutoscaler')[0].spec).toEqual({
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name },
        minReplicas: 2,
        maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
        ],
      });
      expect(find(docs, 'PodDisruptionBudget')).toHaveLength(1);
    },
  },
  {
    name: 'JWTs beside the static token',
    flags: [...JWT, '--set', 'auth.jwt.groupsClaim=roles'],
    check: (docs) => {
      expect(env(docs)).toMatchObject({
        KUBEFLOW_MCP_JWKS_URL: 'https://login.example.test/keys',
        KUBEFLOW_MCP_JWT_GROUPS_CLAIM: 'roles',
        KUBEFLOW_MCP_AUTH_TOKEN: { secretKeyRef: { name: 'kubeflow-mcp-token', key: 'token' } },
      });
    },
  },
  {
    name: 'impersonation with identity rules as a values mapping (-f)',
    flags: [...JWT, '--set', 'auth.tokenSecret=', '-f', 'impersonation.yaml'],
    check: async (docs) => {
      expect(pod(docs).containers[0].args).toContain('--persona=data-scientist');
      expect(
        find(docs, 'RoleBinding')
          .filter((b) => b.roleRef.name === 'kubeflow-mcp-data-scientist')
          .map((b) => b.metadata.namespace),
      ).toEqual(['team-a', 'team-b']);
      expect(find(docs, 'ClusterRoleBinding', 'kubeflow-mcp-impersonator')[0].subjects).toEqual([
        { kind: 'ServiceAccount', name: 'kubeflow-mcp', namespace: 'kubeflow-mcp' },
      ]);
      expect((await podPolicy(docs)).policy).toEqual(IDENTITY);
    },
  },
  {
    name: 'NetworkPolicy off',
    flags: ['--set', 'networkPolicy.enabled=false'],
    check: (docs) => {
      expect(find(docs, 'NetworkPolicy')).toHaveLength(0);
    },
  },
  {
    name: 'NetworkPolicy with named peers',
    flags: ['--set-json', 'networkPolicy.from=[{"namespaceSelector":{"matchLabels":{"team":"ml"}}}]'],
    check: (docs) => {
      expect(find(docs, 'NetworkPolicy')[0].spec.ingress[0].from).toEqual([
        { namespaceSelector: { matchLabels: { team: 'ml' } } },
      ]);
    },
  },
  {
    name: 'open by choice (allowUnauthenticated)',
    flags: ['--set', 'auth.tokenSecret=', '--set', 'auth.allowUnauthenticated=true'],
    check: (docs) => {
      expect(env(docs).KUBEFLOW_MCP_ALLOW_UNAUTHENTICATED).toBe('1');
      expect(env(docs)).not.toHaveProperty('KUBEFLOW_MCP_AUTH_TOKEN');
    },
  },
  {
    name: 'hosts, resource URL, image tag, another release namespace',
    flags: [
      '--namespace',
      'ml-serving',
      '--set-json',
      'allowedHosts=["mcp.example.test","kubeflow-mcp.ml-serving.svc"]',
      '--set',
      'auth.resourceUrl=https://mcp.example.test/mcp',
      '--set',
      'image.tag=0.1.0-rc1',
    ],
    check: (docs) => {
      expect(pod(docs).containers[0].args).toContain('--allowed-hosts=mcp.example.test,kubeflow-mcp.ml-serving.svc');
      expect(pod(docs).containers[0].image).toBe('ghcr.io/kubeflow-mcp/kubeflow-mcp:0.1.0-rc1');
      expect(env(docs).KUBEFLOW_MCP_RESOURCE_URL).toBe('https://mcp.example.test/mcp');
      expect(docs.filter((d) => d.metadata.namespace).every((d) => d.metadata.namespace === 'ml-serving')).toBe(true);
    },
  },
];

const REFUSED: Array<{ name: string; flags: string[]; error: RegExp }> = [
  {
    name: 'no authentication at all',
    flags: ['--set', 'auth.tokenSecret='],
    error: /set auth\.jwt\.jwksUrl or auth\.tokenSecret/,
  },
  {
    name: 'no authentication, "false" as a string',
    flags: ['--set', 'auth.tokenSecret=', '--set-string', 'auth.allowUnauthenticated=false'],
    error: /set auth\.jwt\.jwksUrl or auth\.tokenSecret/,
  },
  {
    name: 'a JWKS URL without an issuer',
    flags: ['--set', 'auth.jwt.jwksUrl=https://login.example.test/keys', '--set', 'auth.jwt.audience=kubeflow-mcp'],
    error: /auth\.jwt\.issuer is required/,
  },
  {
    name: 'a JWKS URL without an audience',
    flags: [
      '--set',
      'auth.jwt.jwksUrl=https://login.example.test/keys',
      '--set',
      'auth.jwt.issuer=https://login.example.test',
    ],
    error: /auth\.jwt\.audience is required/,
  },
  {
    name: 'a policy file that is not a mapping',
    flags: ['--set-file', 'policy=not-a-mapping.yaml'],
    error: /policy: the file must hold a YAML mapping/,
  },
  { name: 'a policy that is a number', flags: ['--set', 'policy=5'], error: /policy: a mapping, or a file's text/ },
  { name: 'replicas without stateless mode', flags: ['--set', 'replicas=3'], error: /replicas=3 needs stateless=true/ },
  {
    name: 'the autoscaler without stateless mode',
    flags: ['--set', 'autoscaling.enabled=true'],
    error: /autoscaling\.enabled needs stateless=true/,
  },
  {
    name: 'an autoscaler whose minimum is over its maximum',
    flags: [
      '--set',
      'stateless=true',
      '--set',
      'autoscaling.enabled=true',
      '--set',
      'autoscaling.minReplicas=5',
      '--set',
      'autoscaling.maxReplicas=3',
    ],
    error: /minReplicas \(5\) must be at least 1 and at most maxReplicas \(3\)/,
  },
  { name: 'no replicas', flags: ['--set', 'replicas=0'], error: /replicas must be at least 1/ },
];
writeFileSync(join(work, 'not-a-mapping.yaml'), '- team-a\n- team-b\n');

const template = (flags: string[]) =>
  helm(['template', 'kubeflow-mcp', CHART, '--namespace', 'kubeflow-mcp', ...flags], work);
const rendered = new Map<string, string>();
const docsOf = (name: string) =>
  parseAllDocuments(rendered.get(name)!)
    .map((d) => d.toJSON())
    .filter(Boolean);

describe(`the Helm chart under real Helm ${HELM_VERSION}`, () => {
  beforeAll(async () => {
    for (const c of CASES) rendered.set(c.name, await template(c.flags));
  });

  it('lints strictly with every values case', async () => {
    for (const c of CASES)
      expect(await helm(['lint', '--strict', CHART, '--namespace', 'kubeflow-mcp', ...c.flags], work), c.name).toMatch(
        /1 chart\(s\) linted, 0 chart\(s\) failed/,
      );
  });

  it.each(CASES.map((c) => [c.name, c] as const))('renders %s', async (_name, c) => {
    await c.check(docsOf(c.name));
  });

  it.each(REFUSED.map((c) => [c.name, c] as const))('refuses %s', async (_name, c) => {
    expect(await helmErr(['template', 'kubeflow-mcp', CHART, ...c.flags], work)).toMatch(c.error);
  });

  it('makes the committed plain manifests of its default values', () => {
    const committed = readFileSync(join(ROOT, 'generated/deploy/kubeflow-mcp.yaml'), 'utf8');
    expect(committed).toContain(`(Helm ${HELM_VERSION.split('.')[0]})`);
    expect(committed.endsWith(`\n${rendered.get('defaults')}`)).toBe(true);
  });

  it('carries the persona roles the specs generate', () => {
    const docs = docsOf('defaults');
    for (const persona of ['readonly', 'data-scientist', 'ml-engineer', 'platform-admin']) {
      const generated = parseAllDocuments(readFileSync(join(ROOT, `generated/rbac/${persona}.yaml`), 'utf8')).map((d) =>
        d.toJSON(),
      );
      for (const role of generated) expect(find(docs, 'ClusterRole', role.metadata.name)[0].rules).toEqual(role.rules);
    }
  });
});

describe('the chart on the sandbox', () => {
  let sb: Sandbox;
  let kubectl: (...args: string[]) => Promise<string>;
  beforeAll(async () => {
    sb = await startSandbox({ timeScale: 0.02, tls: true });
    const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kfmcp-deploy-')), 'kubeconfig');
    writeFileSync(kubeconfig, sb.kubeconfig);
    kubectl = kubectlAt(kubeconfig);
    for (const ns of ['kubeflow-mcp', 'team-a', 'team-b', 'ml-serving']) await kubectl('create', 'namespace', ns);
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('accepts every rendering of the matrix in a server-side dry run, and keeps none', async () => {
    for (const c of CASES) {
      if (!rendered.has(c.name)) rendered.set(c.name, await template(c.flags));
      const file = join(work, `dry-run-${CASES.indexOf(c)}.yaml`);
      writeFileSync(file, rendered.get(c.name)!);
      const out = await kubectl('apply', '--server-side', '--dry-run=server', '-f', file);
      const lines = out.trim().split('\n');
      expect(lines, c.name).toHaveLength(docsOf(c.name).length);
      expect(
        lines.every((l) => l.endsWith('serverside-applied (server dry run)')),
        `${c.name}:\n${out}`,
      ).toBe(true);
    }
    expect(
      JSON.parse(
        await kubectl(
          'get',
          'deployments,configmaps,networkpolicies',
          '-A',
          '-l',
          'app.kubernetes.io/name=kubeflow-mcp',
          '-o',
          'json',
        ),
      ).items,
    ).toEqual([]);
  });

  it('applies the plain manifests with kubectl, and creates what they say', async () => {
    const plain = join(ROOT, 'generated/deploy/kubeflow-mcp.yaml');
    const out = await kubectl('apply', '--server-side', '-f', plain);
    expect(out).toContain('deployment.apps/kubeflow-mcp serverside-applied');
    const docs = parseAllDocuments(readFileSync(plain, 'utf8'))
      .map((d) => d.toJSON())
      .filter(Boolean);
    const listed = JSON.parse(
      await kubectl(
        'get',
        'deployments,services,serviceaccounts,networkpolicies,roles,rolebindings',
        '-n',
        'kubeflow-mcp',
        '-o',
        'json',
      ),
    ).items;
    for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'NetworkPolicy', 'Role', 'RoleBinding']) {
      expect(
        listed
          .filter((o: any) => o.kind === kind)
          .map((o: any) => o.metadata.name)
          .sort(),
        kind,
      ).toEqual(expect.arrayContaining(find(docs, kind).map((d) => d.metadata.name)));
    }
    const roles = JSON.parse(
      await kubectl('get', 'clusterroles', '-l', 'app.kubernetes.io/name=kubeflow-mcp', '-o', 'json'),
    ).items.map((r: any) => r.metadata.name);
    expect(roles).toEqual(expect.arrayContaining(['kubeflow-mcp-readonly', 'kubeflow-mcp-platform-admin-cluster']));
    // Applying again changes nothing.
    expect(await kubectl('apply', '--server-side', '-f', plain)).toContain('serverside-applied');
  });
});

describe('the container image', () => {
  it('builds in one stage and runs in another, as a numeric non-root user', () => {
    const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith('#'));
    const froms = lines.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const last = lines.slice(lines.lastIndexOf(froms.at(-1)!));
    expect(last.find((l) => l.startsWith('USER '))).toMatch(/^USER [1-9]\d*:[1-9]\d*$/);
    expect(last.some((l) => /^(RUN|COPY) .*npm (ci|install)/.test(l))).toBe(false);
    // The chart's probes and port are what the image serves.
    expect(last.join('\n')).toContain('--port=8000');
    expect(
      parse(readFileSync(join(ROOT, 'generated/deploy/helm/kubeflow-mcp/values.yaml'), 'utf8')).image.repository,
    ).toBeTruthy();
  });
});
