// npm run demo: the seed workflow on the sandbox through the agent's client code, no model needed
// (see runtime/agent/demo.ts).
import { runDemo } from '../runtime/agent/demo.ts';

process.exitCode = await runDemo();
