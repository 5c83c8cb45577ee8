// GET pods/{name}/log with the kubelet's options: container, tailLines, sinceSeconds, sinceTime,
// timestamps, previous, limitBytes and follow (chunked, ending when the container ends).
import type http from 'node:http';
import { badRequest } from './errors.ts';
import { queryBool, queryInt } from './query.ts';
import type { KObject } from './store.ts';
import type { Clock } from './clock.ts';

export interface LogLine {
  at: number;
  text: string;
}
export interface LogSource {
  /** Lines the container has written up to now; `finished` once it has terminated. */
  read(pod: KObject, container: string, previous: boolean): { lines: LogLine[]; finished: boolean };
}

/** `current` re-reads the pod, so a follow sees it progress (and ends if it disappears). */
export function servePodLog(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  deps: { logs: LogSource; clock: Clock },
  current: () => KObject | undefined,
  q: URLSearchParams,
) {
  const pod = current()!;
  const names: string[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map(
    (c: any) => c.name,
  );
  const podName = pod.metadata.name;
  let container = q.get('container');
  if (!container) {
    const main = (pod.spec?.containers ?? []).map((c: any) => c.name);
    if (main.length !== 1)
      throw badRequest(`a container name must be specified for pod ${podName}, choose one of: [${main.join(' ')}]`);
    container = main[0] as string;
  }
  if (!names.includes(container)) throw badRequest(`container ${container} is not valid for pod ${podName}`);
  const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find(
    (c: any) => c.name === container,
  );
  const previous = queryBool(q, 'previous');
  if (previous && !status?.lastState?.terminated)
    throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
  if (!previous && (!status || status.state?.waiting)) {
    throw badRequest(
      `container "${container}" in pod "${podName}" is waiting to start: ${status?.state?.waiting?.reason ?? 'ContainerCreating'}`,
    );
  }

  const timestamps = queryBool(q, 'timestamps');
  const tail = queryInt(q, 'tailLines');
  const sinceSeconds = queryInt(q, 'sinceSeconds');
  const sinceTime = q.has('sinceTime') ? Date.parse(q.get('sinceTime')!) : undefined;
  if ((tail !== undefined && !(tail >= 0)) || (sinceSeconds !== undefined && !(sinceSeconds >= 1)))
    throw badRequest('invalid log options: tailLines must be >= 0 and sinceSeconds >= 1');
  let budget = queryInt(q, 'limitBytes') ?? Infinity;
  const cutoff = sinceSeconds !== undefined ? deps.clock.now().getTime() - sinceSeconds * 1000 : sinceTime;
  const format = (l: LogLine) =>
    `${timestamps ? new Date(l.at).toISOString().replace('Z', '000000Z') + ' ' : ''}${l.text}\n`;

  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  const emit = (lines: LogLine[]) => {
    for (const l of lines) {
      if (budget <= 0) return false;
      // The kubelet counts bytes and cuts there, even inside a multi-byte character.
      let b = Buffer.from(format(l));
      if (b.length > budget) b = b.subarray(0, budget);
      budget -= b.length;
      res.write(b);
    }
    return budget > 0;
  };

  const first = deps.logs.read(pod, container, previous);
  let lines = first.lines.filter((l) => cutoff === undefined || l.at >= cutoff);
  if (tail !== undefined) lines = lines.slice(Math.max(0, lines.length - tail));
  let sentCount = first.lines.length; // everything up to now was either sent or cut on purpose
  const more = emit(lines);
  const finished = first.finished;
  if (!queryBool(q, 'follow') || previous || finished || !more) return res.end();

  // Follow: poll the source as simulated time passes; end when the container has terminated.
  const timer = setInterval(
    () => {
      const now = current();
      if (!now) {
        clearInterval(timer);
        res.end();
        return;
      }
      const cur = deps.logs.read(now, container!, false);
      const fresh = cur.lines.slice(sentCount);
      sentCount = cur.lines.length;
      const ok = emit(fresh);
      if (cur.finished || !ok) {
        clearInterval(timer);
        res.end();
      }
    },
    Math.min(250, deps.clock.scale(500)),
  );
  req.on('close', () => clearInterval(timer));
}
