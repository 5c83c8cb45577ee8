// The layers of this repository, as `npm run verify` checks them (dependency-cruiser). Read it as
// the architecture diagram: each rule names an arrow that must not exist.
//
//   specs/ --(generator/)--> generated/ --> runtime/ (the server)
//   runtime/context.ts (types and constants) <-- pipeline.ts, executor.ts, handlers/, trainer/
//   server.ts (builds the state) --> handlers/index.ts; the pipeline receives the registry
//   runtime/handlers/<tool>.ts --> trainer/ (shared builders and queries), never another handler
//   sandbox/ (the simulated cluster) stands apart from the server it tests; runtime/sandbox-loader.ts is its one door
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'An import circle means two modules are one layer in disguise: break it by moving what both need down a layer.',
      severity: 'error',
      from: { path: '^(runtime|generator|sandbox)/' },
      to: { circular: true },
    },
    {
      name: 'generated-not-to-runtime',
      comment: 'generated/ is a function of specs/; the runtime builds on it, never the other way round.',
      severity: 'error',
      from: { path: '^generated/' },
      to: { path: '^runtime/' },
    },
    {
      name: 'sandbox-stands-alone',
      comment:
        'The sandbox (sandbox/) states its own facts about Kubernetes, Trainer and the Hub, so a wrong fact in the ' +
        'server cannot also be true in the cluster that tests it: it imports nothing of the server or of generated/.',
      severity: 'error',
      from: { path: '^sandbox/' },
      to: { path: '^(runtime|generated)/' },
    },
    {
      name: 'sandbox-through-one-door',
      comment:
        'The server loads the sandbox lazily, through runtime/sandbox-loader.ts alone (for --sandbox and the sandbox command).',
      severity: 'error',
      from: { path: '^(runtime|generated|generator)/', pathNot: '^runtime/sandbox-loader[.]ts$' },
      to: { path: '^sandbox/' },
    },
    {
      name: 'handlers-are-leaves',
      comment:
        'An escape hatch imports no other handler: what several share lives in runtime/trainer/. Only the registry (index.ts) names them.',
      severity: 'error',
      from: { path: '^runtime/handlers/', pathNot: '^runtime/handlers/index[.]ts$' },
      to: { path: '^runtime/handlers/' },
    },
    {
      name: 'handlers-only-from-the-registry-and-the-composition-root',
      comment:
        'The pipeline, the executor and trainer/ receive the handlers (ServerState.handlers); only server.ts, which builds the state, loads the registry.',
      severity: 'error',
      from: { path: '^runtime/', pathNot: '^runtime/(handlers/|server[.]ts$)' },
      to: { path: '^runtime/handlers/' },
    },
    {
      name: 'unit-tests-start-no-process',
      comment:
        'The unit tier (test/*.unit.test.ts) runs in-process: no child_process, no stdio client, none of the helpers ' +
        'that start the server, kubectl or Helm. A test that needs one belongs to the process tier (a plain .test.ts).',
      severity: 'error',
      from: { path: '[.]unit[.]test[.]ts$' },
      to: {
        path: '^((node:)?child_process|@modelcontextprotocol/sdk/client/stdio[.]js|test/helpers/(mcp|serve-http|kubectl|helm|project-copy)[.]ts)$',
      },
    },
    {
      name: 'nothing-imports-tests',
      comment: 'Tests and their helpers and fixtures are for the test runner only.',
      severity: 'error',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    // TypeScript 7 has no JavaScript compiler API, so swc parses the sources. swc does not tell
    // type imports apart: they count as arrows too (a type-level circle is still a circle), and
    // that runtime/context.ts imports types only is checked by Biome (biome.json) instead.
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|docs/[.]vitepress/(cache|dist))/' },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
