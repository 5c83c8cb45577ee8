// Starts the sandbox cluster in-process: store + API server + garbage collector + simulated
// Trainer controller, seeded, on 127.0.0.1. Returns its URL, a kubeconfig and a stop function.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { stringify as toYaml } from 'yaml';
import { createApiServer } from './api-server.ts';
import { CrdSchema } from './crd-schema.ts';
import { ManualClock, ScaledClock, type Clock } from './clock.ts';
import { Store, isoSeconds } from './store.ts';
import { typeForKind, typeNamed } from './resources.ts';
import { startGarbageCollector } from './garbage-collector.ts';
import { startVolumeBinder } from './volume-binder.ts';
import { DEFAULT_DURATIONS, TrainerController, type Durations } from './controller/trainjob-controller.ts';
import { defaultSeed } from './seed.ts';
import { loadCrds, loadYamlObjects } from './manifests.ts';
import { OptimizationController } from './controller/optimization-controller.ts';
import { ADMIN, Auth, type SandboxUser } from './auth.ts';
import { Faults } from './faults.ts';
import { isPlatform, PLATFORM_VERSION, PLATFORMS, type Platform } from './platforms.ts';
import { keepState, lockPath, publishLock, readState, releaseLock, restartable, takeLock } from './state-file.ts';

export { writeSandboxKubeconfig } from './kubeconfig-file.ts';
export { joinSandbox } from './join.ts';
export { PLATFORMS, type Platform } from './platforms.ts';

/** The kind a state file uses to declare a user (tokens are not Kubernetes objects). */
const USER_KIND = 'sandbox.kubeflow-mcp.dev/v1/User';

export interface SandboxOptions {
  port?: number;
  /** Every simulated duration is multiplied by this (0.1 = ten times faster). */
  timeScale?: number;
  durations?: Partial<Durations>;
  /** YAML file whose objects replace the default seed (the CRDs always stay). */
  stateFile?: string;
  /**
   * Keep the state in `stateFile`: start from it when it holds a saved state (else from the seed),
   * write every change back, and name this process and its URL in FILE.lock for others to join.
   */
  keepState?: boolean;
  /** Shape the cluster as this platform: its nodes, provider IDs, GPU labels, API groups and version (sandbox/platforms.ts). */
  platform?: Platform;
  /** Extra objects to add after seeding. */
  objects?: any[];
  /** "verb resource" pairs nobody may perform, on top of RBAC, e.g. "delete trainjobs". */
  forbidden?: string[];
  /** Users besides the admin of the default kubeconfig, each with a bearer token; RBAC objects grant them rights. */
  users?: SandboxUser[];
  /** A request without credentials acts as the admin (default, for curl) or is refused with 401. */
  anonymous?: 'admin' | 'deny';
  /** Serve HTTPS with a fresh self-signed certificate (its CA goes into the kubeconfig). */
  tls?: boolean;
  clock?: Clock;
}

export interface Sandbox {
  url: string;
  kubeconfig: string;
  store: Store;
  controller: TrainerController;
  clock: Clock;
  /** A kubeconfig that authenticates as one of the users (by name). */
  kubeconfigAs(user: string, namespace?: string): string;
  /** API requests served so far. */
  requests(): number;
  /** Faults on demand for chosen requests (also at /sandbox/v1/faults). */
  faults: Faults;
  /** Resolves once no request has come and no connection has been open for `seconds` (wall clock). */
  idle(seconds: number): Promise<void>;
  /** Open client connections, and a way to cut them all (long-running watches included). */
  openConnections(): Promise<number>;
  dropConnections(): void;
  stop(): Promise<void>;
}

/** A user's credentials in a kubeconfig: a client certificate and key, or a bearer token. */
export interface Credentials {
  token?: string;
  cert?: string;
  key?: string;
}

export function kubeconfigFor(
  url: string,
  caPem?: string,
  namespace = 'default',
  user: { name: string } & Credentials = ADMIN,
) {
  // client-node refuses plain HTTP unless TLS verification is marked as skipped; over HTTPS the
  // kubeconfig carries the sandbox's own certificate as the CA, so verification stays on.
  const cluster = caPem
    ? { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') }
    : { server: url, 'insecure-skip-tls-verify': true };
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'kubeflow-mcp-sandbox',
    clusters: [{ name: 'kubeflow-mcp-sandbox', cluster }],
    users: [
      {
        name: user.name,
        user: user.cert
          ? {
              'client-certificate-data': Buffer.from(user.cert).toString('base64'),
              'client-key-data': Buffer.from(user.key!).toString('base64'),
            }
          : { token: user.token },
      },
    ],
    contexts: [
      { name: 'kubeflow-mcp-sandbox', context: { cluster: 'kubeflow-mcp-sandbox', user: user.name, namespace } },
    ],
  });
}

async function selfSignedCertificate() {
  const { generate } = await import('selfsigned');
  return generate([{ name: 'commonName', value: 'kubeflow-mcp-sandbox' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  } as any);
}

/** A client certificate for `user`, signed by the sandbox's CA: CN the user, O each group. */
async function clientCertificate(user: SandboxUser, ca: { private: string; cert: string }): Promise<Credentials> {
  const { generate } = await import('selfsigned');
  const subject = [
    { name: 'commonName', value: user.name },
    ...(user.groups ?? []).map((g) => ({ name: 'organizationName', value: g })),
  ];
  const c: any = await generate(
    subject as any,
    {
      days: 30,
      keyType: 'ec',
      algorithm: 'sha256',
      ca: { key: ca.private, cert: ca.cert },
      extensions: [{ name: 'extKeyUsage', clientAuth: true }],
    } as any,
  );
  return { cert: c.cert, key: c.private };
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const clock = opts.clock ?? new ScaledClock(opts.timeScale ?? 1);
  const store = new Store(clock);
  const crds = loadCrds();
  const schemas = new Map<string, CrdSchema>();
  for (const crd of crds) {
    schemas.set(crd.spec.names.kind, new CrdSchema(crd.spec.versions[0].schema.openAPIV3Schema));
    crd.status = {
      conditions: [
        {
          type: 'Established',
          status: 'True',
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        },
      ],
      acceptedNames: crd.spec.names,
      storedVersions: crd.spec.versions.map((v: any) => v.name),
    };
    store.create(typeNamed('customresourcedefinitions'), crd);
  }
  if (opts.platform !== undefined && !isPlatform(opts.platform))
    throw new Error(`unknown sandbox platform "${opts.platform}"; expected one of ${PLATFORMS.join(', ')}`);
  if (opts.keepState && !opts.stateFile) throw new Error('keepState needs a stateFile');
  if (opts.keepState && !takeLock(opts.stateFile!))
    throw new Error(`another process serves the sandbox state in ${opts.stateFile} (${lockPath(opts.stateFile!)})`);
  const saved = opts.keepState ? readState(opts.stateFile!) : undefined;
  const loaded = saved
    ? restartable(saved)
    : opts.stateFile && !opts.keepState
      ? loadYamlObjects(readFileSync(opts.stateFile, 'utf8'))
      : defaultSeed(opts.platform);
  const isUser = (o: any) => `${o.apiVersion}/${o.kind}` === USER_KIND;
  const users: SandboxUser[] = [
    ...(opts.users ?? []),
    ...loaded.filter(isUser).map((u) => ({ name: u.metadata?.name, token: u.token, groups: u.groups ?? [] })),
  ];
  for (const u of users)
    if (!u.name || (!u.token && !u.certificate))
      throw new Error(`sandbox users need a name and a token or certificate: true (${JSON.stringify(u)})`);
  if (users.some((u) => u.certificate) && !opts.tls)
    throw new Error('sandbox users with client certificates need tls: true');
  const seed = loaded.filter((o) => !isUser(o));
  for (const obj of [...seed, ...(opts.objects ?? [])]) {
    const t = typeForKind(obj.apiVersion, obj.kind);
    if (!t) throw new Error(`sandbox seed: unsupported object ${obj.apiVersion}/${obj.kind}`);
    if (t.namespaced) obj.metadata.namespace ??= 'default';
    if (t.crd) {
      const causes = schemas.get(t.kind)!.validate(obj);
      if (causes.length)
        throw new Error(
          `sandbox seed: ${obj.kind} ${obj.metadata.name} is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join('; ')}`,
        );
    }
    const created = store.create(t, obj, { restore: !!saved });
    if (t.kind === 'Pod' && created.status?.phase === 'Running') {
      const copy = structuredClone(created);
      copy.status.startTime = isoSeconds(clock.now());
      for (const c of copy.status.containerStatuses ?? []) c.state = { running: { startedAt: copy.status.startTime } };
      store.update(t, copy);
    }
  }

  const controller = new TrainerController(store, clock, { ...DEFAULT_DURATIONS, ...opts.durations });
  for (const ns of store.list(typeNamed('namespaces')))
    for (const p of store.list(typeNamed('pods'), ns.metadata.name)) {
      if (p.status?.phase === 'Running')
        controller.kubelet.adoptRunning(p, {
          kind: p.metadata.labels?.['app.kubernetes.io/name'] === 'trainer' ? 'trainer-controller' : 'generic',
          pod: p.metadata.name,
          rank: 0,
          world: 1,
          outcome: 'succeed',
        });
    }
  const stopGc = startGarbageCollector(store);
  const stopBinder = startVolumeBinder(store, clock);
  controller.start();
  const optimizer = new OptimizationController(store, clock);
  optimizer.start();

  const auth = new Auth(store, users, opts.anonymous ?? 'admin');
  const faults = new Faults();
  const api = createApiServer({
    store,
    clock,
    schemas,
    logs: controller.kubelet,
    forbidden: new Set(opts.forbidden ?? []),
    auth,
    faults,
    platform: opts.platform && { name: opts.platform, gitVersion: PLATFORM_VERSION[opts.platform].gitVersion },
  });
  const cert = opts.tls ? await selfSignedCertificate() : undefined;
  // Client certificates are asked for and checked against the sandbox's CA; a request without one
  // still reaches the API (and authenticates with a token, or not at all).
  const server = cert
    ? https.createServer(
        { key: cert.private, cert: cert.cert, ca: [cert.cert], requestCert: true, rejectUnauthorized: false },
        api.listener,
      )
    : http.createServer(api.listener);
  const issued = new Map<string, Credentials>();
  for (const u of users) if (u.certificate && cert) issued.set(u.name, await clientCertificate(u, cert));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `${cert ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kept = opts.keepState ? keepState(store, opts.stateFile!) : undefined;
  if (kept) {
    kept.flush();
    publishLock(opts.stateFile!, { pid: process.pid, url, kubeconfig: kubeconfigFor(url, cert?.cert) });
  }
  const openConnections = () => new Promise<number>((r) => server.getConnections((_e, n) => r(n)));

  return {
    url,
    kubeconfig: kubeconfigFor(url, cert?.cert),
    store,
    controller,
    clock,
    requests: () => api.stats.requests,
    faults,
    openConnections,
    idle: (seconds) =>
      new Promise((resolve) => {
        let seen = api.stats.requests,
          quietSince = Date.now();
        const tick = setInterval(
          async () => {
            const busy = api.stats.requests !== seen || (await openConnections()) > 0;
            seen = api.stats.requests;
            if (busy) quietSince = Date.now();
            else if (Date.now() - quietSince >= seconds * 1000) {
              clearInterval(tick);
              resolve();
            }
          },
          Math.min(5000, seconds * 250),
        );
        tick.unref();
      }),
    dropConnections: () => server.closeAllConnections(),
    kubeconfigAs(name, namespace = 'default') {
      const u = users.find((x) => x.name === name);
      if (!u) throw new Error(`no sandbox user ${name}`);
      return kubeconfigFor(url, cert?.cert, namespace, { name: u.name, ...(issued.get(name) ?? { token: u.token }) });
    },
    async stop() {
      controller.stop();
      optimizer.stop();
      stopGc();
      stopBinder();
      if (clock instanceof ScaledClock || clock instanceof ManualClock) clock.stop();
      faults.releaseHung();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      kept?.stop();
      if (kept) releaseLock(opts.stateFile!);
    },
  };
}
