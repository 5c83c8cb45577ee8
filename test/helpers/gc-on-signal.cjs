// Preloaded into a server under test (NODE_OPTIONS="--expose-gc --require <this file>"): SIGUSR2
// runs a full collection and says so on stderr, so a test measures the memory objects still hold
// rather than garbage an idle process has not collected yet. Never loaded outside tests.
process.on('SIGUSR2', () => {
  globalThis.gc();
  globalThis.gc();
  process.stderr.write('gc-on-signal: collected\n');
});
