import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
for (const args of [['--persona', 'readonly'], ['--sandbox', '--persona', 'readonly']]) {
  const t0 = performance.now();
  const c = new Client({ name: 'p', version: '1' });
  await c.connect(new StdioClientTransport({ command: 'node', args: ['bin/kubeflow-mcp.mjs', 'serve', ...args], stderr: 'ignore' }));
  await c.listTools();
  const t1 = performance.now();
  await c.callTool({ name: 'list_training_jobs', arguments: {} });
  console.log(args.join(' '), 'ready', Math.round(t1 - t0), 'first call', Math.round(performance.now() - t1));
  await c.close();
}
