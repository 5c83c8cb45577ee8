// The bundled Kubernetes client over HTTPS: it trusts the CA the kubeconfig names and refuses a
// server whose certificate it cannot verify (the bundle keeps client-node's TLS and auth handling).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { call, connect } from './helpers/mcp.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ tls: true });
});
afterAll(() => sb?.stop());

function kubeconfigFile(yaml: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'kfmcp-tls-')), 'kubeconfig');
  writeFileSync(file, yaml);
  return file;
}

describe('the Kubernetes client over HTTPS', () => {
  it('lists jobs through a server whose CA the kubeconfig carries', async () => {
    expect(sb.url.startsWith('https://')).toBe(true);
    const c = await connect(['--persona', 'readonly'], { KUBECONFIG: kubeconfigFile(sb.kubeconfig) });
    try {
      const r = await call(c.client, 'list_training_jobs', {});
      expect(r.success).toBe(true);
      expect((await call(c.client, 'health_check', {})).data.kubernetes).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('refuses a server it cannot verify', async () => {
    const kc = parse(sb.kubeconfig);
    for (const cl of kc.clusters) delete cl.cluster['certificate-authority-data'];
    const c = await connect(['--persona', 'readonly'], {
      KUBECONFIG: kubeconfigFile(stringify(kc)),
      KUBEFLOW_MCP_K8S_TIMEOUT_SECONDS: '5',
    });
    try {
      const r = await call(c.client, 'list_training_jobs', {});
      expect(r.success).toBe(false);
      expect(r.error_code).toBe('KUBERNETES_ERROR');
      expect(r.error).toMatch(/certificate/i);
    } finally {
      await c.close();
    }
  });
});
