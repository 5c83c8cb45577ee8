const t0 = performance.now();
const { startSandbox } = await import('./sandbox/index.ts');
const t1 = performance.now();
const sb = await startSandbox({ timeScale: 0.02 });
const t2 = performance.now();
console.log('import', Math.round(t1 - t0), 'start', Math.round(t2 - t1));
await sb.stop();
