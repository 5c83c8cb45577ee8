// The MCP servers the benchmark compares: ours, and the two public Kubernetes MCP servers from npm
// (installed into a cache folder with --install-peers; left out with a note when absent). Each is
// started the way an MCP client starts it: over stdio, with the client's minimal environment.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';

export const ROOT = join(import.meta.dirname, '..');
export const BIN = join(ROOT, 'bin', 'kubeflow-mcp.mjs');
export const PEERS_DIR = join(homedir(), '.cache', 'kubeflow-mcp-bench-peers');
const GO_PEER = 'kubernetes-mcp-server@0.0.67';
const TS_PEER = 'mcp-server-kubernetes@4.1.7';

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}
export interface ServerUnderTest {
  id: string;
  label: string;
  command: string;
  args: string[];
  /** Lists the TrainJobs of the default namespace with this server's own tools. */
  listJobs: ToolCall;
  /** The cheapest call the server has (no Kubernetes request), for per-call overhead. */
  trivial: ToolCall;
}

/** What an MCP client passes a server it starts (HOME, PATH, SHELL, TERM), plus the cluster. */
export function clientEnv(kubeconfig: string): Record<string, string> {
  return { ...getDefaultEnvironment(), HOME: mkdtempSync(join(tmpdir(), 'kfmcp-bench-home-')), KUBECONFIG: kubeconfig };
}

export const ours: ServerUnderTest = {
  id: 'ours',
  label: 'kubeflow-mcp (platform-admin)',
  command: process.execPath,
  args: [BIN, 'serve', '--no-banner', '--log-level', 'INFO', '--persona', 'platform-admin'],
  listJobs: { name: 'list_training_jobs', arguments: {} },
  // Asks for CRITICAL records only, so the answer is the same whether the audit log is on or off.
  trivial: { name: 'get_server_logs', arguments: { limit: 1, level: 'CRITICAL' } },
};

/** The same server, listing the TrainJobs of another namespace. */
export function inNamespace(s: ServerUnderTest, namespace: string): ServerUnderTest {
  return { ...s, listJobs: { ...s.listJobs, arguments: { ...s.listJobs.arguments, namespace } } };
}

export function installPeers() {
  mkdirSync(PEERS_DIR, { recursive: true });
  execFileSync('npm', ['i', '--no-audit', '--no-fund', '--prefix', PEERS_DIR, GO_PEER, TS_PEER], { stdio: 'inherit' });
}

/** The peers found in the cache folder, and a note for each one that is not there. */
export function peers(): { servers: ServerUnderTest[]; notes: string[] } {
  const nm = join(PEERS_DIR, 'node_modules');
  const servers: ServerUnderTest[] = [];
  const notes: string[] = [];
  const goList: ToolCall = {
    name: 'resources_list',
    arguments: { apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', namespace: 'default' },
  };
  const goTrivial: ToolCall = { name: 'configuration_view', arguments: { minified: true } };
  const native = join(nm, 'kubernetes-mcp-server-linux-amd64', 'bin', 'kubernetes-mcp-server-linux-amd64');
  if (existsSync(native))
    servers.push({
      id: 'go-native',
      label: 'kubernetes-mcp-server 0.0.67 (Go, native binary)',
      command: native,
      args: [],
      listJobs: goList,
      trivial: goTrivial,
    });
  else notes.push(`kubernetes-mcp-server (Go) is not installed in ${PEERS_DIR}; run npm run bench -- --install-peers`);
  const launcher = join(nm, '.bin', 'kubernetes-mcp-server');
  if (existsSync(launcher))
    servers.push({
      id: 'go-npm',
      label: 'kubernetes-mcp-server 0.0.67 (Go, npm launcher)',
      command: launcher,
      args: [],
      listJobs: goList,
      trivial: goTrivial,
    });
  const ts = join(nm, 'mcp-server-kubernetes', 'dist', 'index.js');
  if (existsSync(ts))
    servers.push({
      id: 'ts',
      label: 'mcp-server-kubernetes 4.1.7 (TypeScript)',
      command: process.execPath,
      args: [ts],
      listJobs: { name: 'kubectl_get', arguments: { resourceType: 'trainjobs', namespace: 'default', output: 'json' } },
      trivial: { name: 'ping', arguments: {} },
    });
  else
    notes.push(
      `mcp-server-kubernetes (TypeScript) is not installed in ${PEERS_DIR}; run npm run bench -- --install-peers`,
    );
  return { servers, notes };
}

export async function connect(s: ServerUnderTest, env: Record<string, string>) {
  const transport = new StdioClientTransport({ command: s.command, args: s.args, env, stderr: 'ignore' });
  const client = new Client({ name: 'bench', version: '1' });
  await client.connect(transport);
  return { client, transport, pid: transport.pid! };
}
