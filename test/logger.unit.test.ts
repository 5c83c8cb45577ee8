// The logger: records are masked, kept in a bounded ring (oldest dropped) and written to the
// destination once per turn of the event loop, never during the call that logged them.
import { describe, expect, it } from 'vitest';
import { createLogger, registerSecret, RingBuffer } from '../runtime/logger.ts';

function sink() {
  const writes: string[] = [];
  return {
    writes,
    destination: {
      write: (s: string) => {
        writes.push(s);
        return true;
      },
    } as unknown as NodeJS.WritableStream,
  };
}
const turn = () => new Promise((r) => setImmediate(r));

describe('logger', () => {
  it('writes nothing during the call and everything of one turn in one write', async () => {
    const { writes, destination } = sink();
    const { log, ring } = createLogger({ level: 'INFO', format: 'json', destination });
    for (let i = 0; i < 5; i++) log.info({ i }, 'tool_call');
    log.debug({}, 'below the level');
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toHaveLength(1);
    const lines = writes[0]
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.i)).toEqual([0, 1, 2, 3, 4]);
    expect(lines[0]).toMatchObject({ level: 'INFO', logger: 'kubeflow_mcp', message: 'tool_call' });
    expect(ring.records).toHaveLength(5);
  });

  it('masks secret-named fields and known secret values, and cuts long strings but not stacks', async () => {
    const { writes, destination } = sink();
    const { log } = createLogger({ level: 'DEBUG', format: 'json', destination });
    registerSecret('hf_SeenOnceInALog42');
    log.info(
      {
        parameters: { hf_token: 'anything', note: 'uses hf_SeenOnceInALog42 here', script: 'x'.repeat(1000) },
        err: `Error\n${'at f\n'.repeat(100)}`,
      },
      'call with hf_SeenOnceInALog42',
    );
    await turn();
    const rec = JSON.parse(writes[0]);
    expect(writes[0]).not.toContain('hf_SeenOnceInALog42');
    expect(rec.parameters.hf_token).toBe('***');
    expect(rec.parameters.note).toBe('uses *** here');
    expect(rec.parameters.script).toMatch(/\.\.\. \(1000 chars\)$/);
    expect(rec.err.length).toBeGreaterThan(500);
    expect(rec.message).toBe('call with ***');
  });

  it('keeps the last records of a full ring in order', () => {
    const r = new RingBuffer(3);
    for (let i = 0; i < 7; i++) r.push({ timestamp: '', level: 'INFO', logger: 'l', message: String(i) });
    expect(r.records.map((x) => x.message)).toEqual(['4', '5', '6']);
    expect(r.newest(2, (x) => x.message !== '6')).toEqual({ records: [r.records[0], r.records[1]], total: 2 });
    expect(r.newest(1, () => true).records.map((x) => x.message)).toEqual(['6']);
    const partial = new RingBuffer(5);
    for (let i = 0; i < 3; i++) partial.push({ timestamp: '', level: 'INFO', logger: 'l', message: String(i) });
    expect(partial.newest(5, () => true).records.map((x) => x.message)).toEqual(['0', '1', '2']);
  });
});
