// `kubeflow-mcp serve`: the MCP server on stdio. Configuration, policy and the tool list are
// settled first (a bad flag or file exits 2 before anything is served); the session then answers
// initialize and tools/list at once from them, while the MCP SDK, the logger, the Kubernetes
// client and (with --sandbox) the sandbox load behind it and take the session over.
import { spawn } from 'node:child_process';
import { existsSync, fstatSync, openSync, watch } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { findPolicyFile, grantFor, loadPolicy, type Caller } from './policy.ts';
import { resolveServeConfig } from './config.ts';
import { configureServices } from './service-settings.ts';
import { CAPABILITIES, instructionsFor, SERVER_NAME, selectListed, toolsListJson } from './listing.ts';
import { StdioSession } from './stdio.ts';
import { toolsListFor } from './views/links.ts';
import { discoverResult } from './protocol/era.ts';
import { VERSION } from './version.ts';
import { die } from './exit.ts';
import { loadSandbox } from './sandbox-loader.ts';
import { setting } from './settings.ts';

/** Calls `changed` (debounced) whenever the file at `path` is written, replaced or removed. */
function watchFile(path: string, changed: () => void) {
  let timer: NodeJS.Timeout | undefined;
  const name = basename(path);
  try {
    watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file && file.toString() !== name) return;
      clearTimeout(timer);
      timer = setTimeout(changed, 150);
    });
  } catch {
    /* a directory that cannot be watched: the policy stays as loaded */
  }
}

export async function serve(flags: Record<string, any>) {
  const cfg = await resolveServeConfig(flags);
  // Variables of ours that nothing declares (a typo, most often): logged at once, whatever the transport.
  if (cfg.warnings.length) {
    const { log } = (await import('./logger.ts')).createLogger({ level: cfg.logLevel, format: cfg.logFormat });
    for (const w of cfg.warnings) log.warn({}, w);
  }
  configureServices({ hub: cfg.hub });
  const policyPath = setting('policy') ?? findPolicyFile();
  const policy = await loadPolicy(policyPath);
  // One deadline for every Kubernetes request (default 10 s).
  const timeoutSeconds = setting('k8sTimeoutSeconds');
  const tools = selectListed({ persona: cfg.persona, clients: cfg.clients, policy });
  const mode = cfg.mode ?? 'full';
  const instructions = instructionsFor(
    tools.map((t) => t.name),
    mode,
    cfg.tier,
  );
  if (cfg.banner)
    process.stderr.write(
      `kubeflow-mcp ${VERSION}: ${tools.length} tools for persona ${cfg.persona} over ${cfg.transport}${cfg.sandbox ? ' on the sandbox cluster' : ''}\n`,
    );

  if (cfg.transport !== 'stdio') return serveOverHttp(cfg, policyPath, policy, timeoutSeconds * 1000);

  let full: Promise<Full> | undefined;
  let discoverInstructions = instructions;
  // After the answer is written: loading blocks the event loop for a few tens of milliseconds.
  const needFull = () => {
    full ??= new Promise<void>((r) => setImmediate(r)).then(() => startFull()).catch(die);
  };
  const session = new StdioSession(
    {
      initialize: (protocolVersion) => ({
        protocolVersion,
        capabilities: CAPABILITIES,
        serverInfo: { name: SERVER_NAME, version: VERSION },
        instructions,
      }),
      toolsList: (capabilities) => toolsListFor(toolsListJson(tools, mode, policy), capabilities),
      // The instructions as the full server has them after a policy reload.
      discover: () =>
        discoverResult({
          capabilities: CAPABILITIES,
          instructions: discoverInstructions,
          server: { name: SERVER_NAME, version: VERSION },
          tasks: true,
          cacheScope: 'private',
        }),
      server: { name: SERVER_NAME, version: VERSION },
    },
    needFull,
  );
  // Closing the server closes the transport, which reports onclose again: shut down once.
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    const f = await full?.catch(() => undefined);
    // Calls still running get an answer (cancelled) before the transport closes.
    if (f) {
      const { cancelRunning } = await import('./pipeline.ts');
      if (cancelRunning()) await new Promise((r) => setTimeout(r, 100));
    }
    await f?.server.close().catch(() => {});
    await f?.stopSandbox?.();
    await flushAll();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // The client going away (stdin closed) ends the server too.
  session.listen(process.stdin, () => {
    void shutdown();
  });
  // A client that never lists the tools still gets the full server soon.
  session.whenIdle(200, needFull);
  // Watched from the start: an edit made while the full server loads is applied once it is up.
  if (policyPath)
    watchFile(policyPath, async () => {
      needFull();
      const f = await full!;
      // A broken or removed file keeps the last good policy (never fewer limits by accident).
      if (!existsSync(policyPath)) {
        process.stderr.write(`kubeflow-mcp: policy file ${policyPath} was removed; keeping the last policy\n`);
        return;
      }
      try {
        const next = await f.reloadPolicy(await loadPolicy(policyPath));
        f.log.info({ tools: next.length, policy: policyPath }, 'policy reloaded');
      } catch (e) {
        process.stderr.write(`kubeflow-mcp: ${(e as Error).message}; keeping the last policy\n`);
      }
    });

  interface Full {
    server: { close(): Promise<void> };
    stopSandbox?: () => Promise<void>;
    reloadPolicy: (p: Awaited<ReturnType<typeof loadPolicy>>) => Promise<unknown[]>;
    log: { info: (o: object, msg: string) => void };
  }
  async function startFull(): Promise<Full> {
    const { log, ring, kube, stopSandbox, buildServer } = await loadServerParts(cfg, timeoutSeconds * 1000);
    const {
      server,
      tools: served,
      reloadPolicy: reload,
      taskRequest,
    } = buildServer({
      persona: cfg.persona,
      mode: cfg.mode,
      tier: cfg.tier,
      clients: cfg.clients,
      policy,
      kube,
      log,
      ring,
      version: VERSION,
      era: () => (session.era === 'modern' ? 'modern' : 'legacy'),
    });
    session.taskRequest = (method, params) => taskRequest(method, params);
    const reloadPolicy = async (p: Awaited<ReturnType<typeof loadPolicy>>) => {
      const next = await reload(p);
      discoverInstructions = instructionsFor(
        next.map((t) => t.name),
        mode,
        cfg.tier,
      );
      return next;
    };
    // A missing or broken kubeconfig is said once, plainly; the tools that need no cluster still work.
    // A missing file is seen at once; an unreadable one when the client library has loaded it.
    const sayKubeProblem = (problem: string) => {
      const offline = served.filter((t) => !t.annotations.openWorldHint).map((t) => t.name);
      process.stderr.write(
        `kubeflow-mcp: ${problem}; serving anyway, but only ${offline.join(', ')} work without a cluster\n`,
      );
    };
    const missing = kube.missingKubeconfig();
    if (missing) sayKubeProblem(missing);
    session.onclose = () => {
      void shutdown();
    };
    await server.connect(session as any);
    session.handOver();
    if (!missing && !cfg.sandbox)
      setTimeout(() => {
        void kube.check().then((p) => {
          if (p) sayKubeProblem(p);
        });
      }, 500).unref();
    log.info(
      { persona: cfg.persona, tier: cfg.tier, tools: served.length, clients: cfg.clients },
      'Starting kubeflow-mcp',
    );
    return { server, stopSandbox, reloadPolicy, log };
  }
}

/** Run before the process exits (trace export). */
const flushers: Array<() => Promise<void>> = [];
const flushAll = () => Promise.all(flushers.map((f) => f().catch(() => {})));

/** What every transport needs behind it: the logger, the Kubernetes client (on the sandbox, when asked) and the server builder. */
async function loadServerParts(cfg: Awaited<ReturnType<typeof resolveServeConfig>>, timeoutMs: number) {
  const { createLogger } = await import('./logger.ts');
  const { log, ring } = createLogger({ level: cfg.logLevel, format: cfg.logFormat });
  // Traces only when an OTLP endpoint is configured; flushed when the process ends.
  const stopTelemetry = await (await import('./telemetry.ts')).startTelemetry(VERSION);
  if (stopTelemetry) {
    log.info({ endpoint: setting('otelTracesEndpoint') ?? setting('otelEndpoint') }, 'exporting traces over OTLP');
    flushers.push(stopTelemetry);
  }
  const [{ buildServer }, { Kube }] = await Promise.all([import('./server.ts'), import('./k8s/client.ts')]);
  if (!cfg.sandbox) {
    const kube = new Kube({ kubeconfigPath: cfg.kubeconfig, context: cfg.context, timeoutMs });
    // An edited kubeconfig (new credentials, another cluster) is read again on the next call.
    const path =
      cfg.kubeconfig ??
      setting('kubeconfigPaths')
        ?.split(delimiter)
        .find((p) => p && existsSync(p)) ??
      join(homedir(), '.kube', 'config');
    if (existsSync(path))
      watchFile(path, () => {
        kube.reload();
        log.info({ kubeconfig: path }, 'kubeconfig reloaded');
      });
    return { log, ring, buildServer, kube, stopSandbox: undefined };
  }
  const { startSandbox, writeSandboxKubeconfig, joinSandbox } = await loadSandbox();
  if (cfg.sandboxState) {
    // A sandbox shared by every process of a session: joined, or started in the background with
    // this same command line's program (`kubeflow-mcp sandbox --keep`), so it outlives this process.
    const shared = await joinSandbox(cfg.sandboxState, (file) => {
      const args = [
        ...process.execArgv,
        process.argv[1],
        'sandbox',
        '--state',
        file,
        '--keep',
        '--idle-exit',
        '600',
        '--time-scale',
        String(cfg.timeScale),
        '--kubeconfig',
        `${file}.kubeconfig`,
        ...(cfg.sandboxPlatform ? ['--platform', cfg.sandboxPlatform] : []),
      ];
      const out = openSync(`${file}.log`, 'a', 0o600);
      spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out] }).unref();
    });
    const written = writeSandboxKubeconfig(shared, cfg.sandboxKubeconfig);
    log.info(
      { url: shared.url, pid: shared.pid, state: cfg.sandboxState, kubeconfig: written.path, started: shared.started },
      'sandbox cluster shared through its state file',
    );
    if (cfg.banner)
      process.stderr.write(
        `sandbox cluster at ${shared.url} (${shared.started ? 'started' : 'joined'}, pid ${shared.pid}, state in ${cfg.sandboxState}); its kubeconfig: ${written.path}\n  kubectl --kubeconfig ${written.path} get trainjobs -w\n`,
      );
    return {
      log,
      ring,
      buildServer,
      kube: new Kube({ kubeconfigYaml: shared.kubeconfig, timeoutMs }),
      stopSandbox: async () => {
        written.remove();
      },
    };
  }
  const sb = await startSandbox({ timeScale: cfg.timeScale, platform: cfg.sandboxPlatform });
  const written = writeSandboxKubeconfig(sb, cfg.sandboxKubeconfig);
  log.info({ url: sb.url, kubeconfig: written.path }, 'sandbox cluster started in-process');
  if (cfg.banner)
    process.stderr.write(
      `sandbox cluster at ${sb.url}; its kubeconfig: ${written.path}\n  kubectl --kubeconfig ${written.path} get trainjobs -w\n`,
    );
  return {
    log,
    ring,
    buildServer,
    kube: new Kube({ kubeconfigYaml: sb.kubeconfig, timeoutMs }),
    stopSandbox: async () => {
      written.remove();
      await sb.stop();
    },
  };
}

/** The server for a team: streamable HTTP (see http.ts), one MCP server per session. */
async function serveOverHttp(
  cfg: Awaited<ReturnType<typeof resolveServeConfig>>,
  policyPath: string | undefined,
  policy: Awaited<ReturnType<typeof loadPolicy>>,
  timeoutMs: number,
) {
  const [{ log, ring, kube, stopSandbox, buildServer }, { serveHttp, CallerRefused }] = await Promise.all([
    loadServerParts(cfg, timeoutMs),
    import('./http.ts'),
  ]);
  let current = policy;
  // One ownership key for every session, read with the server's own identity (callers need no access to it).
  const { Ownership } = await import('./auth/ownership.ts');
  const ownership = new Ownership(kube);
  // Replicas without sticky sessions agree through the cluster on what must be shared (shared-state.ts).
  if (cfg.http.stateless || setting('sharedState') === 'cluster') {
    const { ClusterSharedState, replicasFromEnv, useSharedState } = await import('./shared-state.ts');
    useSharedState(
      new ClusterSharedState(
        kube,
        async () => setting('ownershipNamespace') ?? (await kube.defaultNamespace()),
        replicasFromEnv(),
      ),
    );
  }
  const reloads = new Set<(p: typeof policy) => Promise<unknown>>();
  // Each caller gets the persona and namespaces the policy's identity rules give them and, with
  // identity.impersonate, a Kubernetes client that acts as them.
  const newServer = (caller: Caller | undefined, remote: string, era: 'legacy' | 'modern' = 'legacy') => {
    const grantUnder = (p: typeof policy) =>
      caller ? grantFor(p, caller, cfg.persona) : { persona: cfg.persona, policy: p };
    const grant = grantUnder(current);
    if ('refused' in grant) throw new CallerRefused(grant.refused);
    const impersonate =
      caller?.via === 'jwt' && current.identity?.impersonate
        ? { user: caller.subject, groups: caller.groups }
        : undefined;
    const built = buildServer({
      persona: grant.persona,
      mode: cfg.mode,
      tier: cfg.tier,
      clients: cfg.clients,
      policy: grant.policy,
      kube,
      log,
      ring,
      version: VERSION,
      ownership,
      impersonate,
      shared: true,
      principal: caller?.subject,
      rateKey: `address:${remote}`,
      era: () => era,
    });
    // A reloaded policy is applied to this caller's grant; one that no longer grants them anything leaves them no tools.
    const reload = (p: typeof policy) => {
      const g = grantUnder(p);
      return built.reloadPolicy('refused' in g ? { ...p, policy: { ...p.policy, deny: ['*'] } } : g.policy);
    };
    reloads.add(reload);
    const close = built.server.close.bind(built.server);
    return {
      connect: (t: any) => built.server.connect(t),
      close: async () => {
        reloads.delete(reload);
        await close();
      },
      taskRequest: built.taskRequest,
      instructions: built.instructions,
    };
  };
  const { cancelRunning } = await import('./pipeline.ts');
  const server = await serveHttp({
    config: cfg.http,
    newServer,
    kube,
    log,
    onGraceOver: () => {
      const n = cancelRunning();
      log.warn({ calls: n }, 'shutdown grace is over: answering the calls still running as cancelled');
    },
  });
  const auth =
    [cfg.http.token ? 'bearer token' : '', cfg.http.jwt ? `JWTs from ${cfg.http.jwt.issuer}` : '']
      .filter(Boolean)
      .join(' and ') || 'no authentication';
  const kind = cfg.http.legacySse ? 'legacy SSE' : cfg.http.stateless ? 'stateless' : 'sessions';
  if (cfg.banner)
    process.stderr.write(
      `kubeflow-mcp ${VERSION}: listening on ${server.url} (${kind}, ${auth}) for persona ${policy.identity ? 'per caller (policy identity rules)' : cfg.persona}\n`,
    );
  log.info({ url: server.url, transport: kind, auth }, 'listening');
  // Said as records too, so a log pipeline sees them and not only whoever reads the terminal.
  if (!cfg.http.token && !cfg.http.jwt)
    log.warn(
      { url: server.url },
      "the HTTP endpoint has no authentication: anyone who can reach it acts with this server's Kubernetes credentials",
    );
  if (cfg.http.hostChecks === false)
    log.warn(
      {},
      'Host and Origin checks are off (KUBEFLOW_MCP_DNS_REBINDING_PROTECTION): a web page could reach this server through DNS rebinding',
    );
  if (cfg.http.tokenOnCommandLine)
    log.warn(
      {},
      'the bearer token was given with --auth-token, which other local users can read in the process list; prefer --auth-token-file or KUBEFLOW_MCP_AUTH_TOKEN from a Secret',
    );
  if (policyPath)
    watchFile(policyPath, async () => {
      if (!existsSync(policyPath)) {
        process.stderr.write(`kubeflow-mcp: policy file ${policyPath} was removed; keeping the last policy\n`);
        return;
      }
      try {
        current = await loadPolicy(policyPath);
        for (const r of reloads) await r(current);
        log.info({ policy: policyPath, sessions: reloads.size }, 'policy reloaded');
      } catch (e) {
        process.stderr.write(`kubeflow-mcp: ${(e as Error).message}; keeping the last policy\n`);
      }
    });
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    // Calls get this long to finish (KUBEFLOW_MCP_SHUTDOWN_GRACE_SECONDS, default 10); those still
    // running after it are answered as cancelled.
    const grace = setting('shutdownGraceSeconds');
    await server.close((grace >= 0 && grace <= 600 ? grace : 10) * 1000);
    kube.closeCaches();
    await stopSandbox?.();
    await flushAll();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // Started by an MCP client through a config file that asked for HTTP: when that client goes away
  // (its pipe to our stdin closes), so does the server, instead of listening on with nobody to own it.
  if (cfg.transportFromFile && stdinIsPipe()) {
    process.stdin
      .on('end', () => {
        void shutdown();
      })
      .on('error', () => {
        void shutdown();
      })
      .resume();
  }
}

/** Whether stdin is a pipe or socket from a parent process (not a terminal, a file or /dev/null). */
function stdinIsPipe(): boolean {
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}
