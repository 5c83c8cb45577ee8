// The call pipeline in-process against a sandbox: a server state as serve builds it, with logs
// kept in the ring buffer only.
import { Writable } from 'node:stream';
import { Kube } from '../../runtime/k8s/client.ts';
import { createLogger } from '../../runtime/logger.ts';
import type { ServerState } from '../../runtime/context.ts';
import { HANDLERS } from '../../runtime/handlers/index.ts';
import { localOwnerOf, selectTools } from '../../runtime/server.ts';
import { Ownership } from '../../runtime/auth/ownership.ts';
import { systemClock } from '../../runtime/clock.ts';

export function inProcessState(kubeconfig: string, persona = 'platform-admin', clients = ['trainer']): ServerState {
  const { log, ring } = createLogger({
    level: 'INFO',
    format: 'json',
    destination: new Writable({
      write(_c, _e, done) {
        done();
      },
    }),
  });
  const tools = selectTools({ persona, clients, policy: {} });
  const kube = new Kube({ kubeconfigYaml: kubeconfig });
  return {
    kube,
    kubeFor: (c) => kube.forContext(c),
    persona,
    bypassOwnership: persona === 'platform-admin',
    policy: {},
    log,
    ring,
    clock: systemClock,
    startedAt: Date.now(),
    version: 'test',
    tools: new Map(tools.map((t) => [t.name, t])),
    allTools: tools,
    ownership: new Ownership(kube),
    localOwner: localOwnerOf(kube),
    handlers: HANDLERS,
  };
}
