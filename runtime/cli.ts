// kubeflow-mcp command line: `serve` (the MCP server), `sandbox` (the simulated cluster on its
// own), `status`. A plain `serve` line goes straight to the server without loading commander (it
// is on the start-up path); anything else (help, other commands, a mistake) goes through it.
// Bad flags print one line and exit 2; nothing prints a stack trace to users.
import { parseServeFlags } from './serve-options.ts';
import { serve } from './serve.ts';
import { die } from './exit.ts';

const argv = process.argv.slice(2);
const flags = argv[0] === 'serve' ? parseServeFlags(argv.slice(1)) : undefined;
if (flags) await serve(flags).catch(die);
else await import('./commands.ts');
