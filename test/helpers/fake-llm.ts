// Scripted stand-ins for a model server on loopback: Ollama's /api/chat (NDJSON stream, tool calls
// whole in one chunk, thinking) and an OpenAI-compatible /v1/chat/completions (SSE, tool-call
// arguments split across chunks). A script looks at the request and says what the "model" answers;
// every request is kept for the test to inspect.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedReply {
  thinking?: string;
  text?: string;
  calls?: { name: string; arguments: Record<string, unknown> }[];
  /** Answer with an HTTP error instead (the body is the backend's usual error JSON). */
  error?: { status: number; message: string };
}

export interface FakeRequest {
  path: string;
  body: any;
}
export type Script = (req: { messages: any[]; tools: any[]; body: any }) => ScriptedReply;

export interface FakeLlm {
  url: string;
  requests: FakeRequest[];
  chats(): FakeRequest[];
  close(): Promise<void>;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Splits text into a few pieces, so that it really arrives as a stream. */
const pieces = (s: string, n = 3) => {
  const size = Math.max(1, Math.ceil(s.length / n));
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
};

async function readBody(req: http.IncomingMessage): Promise<any> {
  let raw = '';
  for await (const c of req) raw += c;
  try {
    return raw ? JSON.parse(raw) : undefined;
  } catch {
    return raw;
  }
}

async function listen(
  handler: (req: http.IncomingMessage, body: any, res: http.ServerResponse) => Promise<void>,
  requests: FakeRequest[],
  chatPath: string,
): Promise<FakeLlm> {
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req);
    requests.push({ path: req.url ?? '', body });
    try {
      await handler(req, body, res);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    chats: () => requests.filter((r) => r.path.endsWith(chatPath)),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function fakeOllama(script: Script, opts: { capabilities?: string[] } = {}): Promise<FakeLlm> {
  const requests: FakeRequest[] = [];
  return listen(
    async (req, body, res) => {
      if (req.url === '/api/show') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            details: { family: 'fake' },
            capabilities: opts.capabilities ?? ['completion', 'tools', 'thinking'],
          }),
        );
        return;
      }
      if (req.url !== '/api/chat') {
        res.writeHead(404).end(JSON.stringify({ error: 'not found' }));
        return;
      }
      const reply = script({ messages: body.messages, tools: body.tools ?? [], body });
      if (reply.error) {
        res
          .writeHead(reply.error.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: reply.error.message }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const send = async (message: object, done = false) => {
        res.write(
          `${JSON.stringify({ model: body.model, created_at: new Date().toISOString(), message: { role: 'assistant', content: '', ...message }, done })}\n`,
        );
        await pause(15);
      };
      if (reply.thinking && body.think) for (const p of pieces(reply.thinking)) await send({ thinking: p });
      if (reply.text) for (const p of pieces(reply.text)) await send({ content: p });
      if (reply.calls?.length)
        await send({ tool_calls: reply.calls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) });
      res.end(
        `${JSON.stringify({ model: body.model, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop' })}\n`,
      );
    },
    requests,
    '/api/chat',
  );
}

export function fakeOpenAI(script: Script, opts: { models?: string[]; key?: string } = {}): Promise<FakeLlm> {
  const requests: FakeRequest[] = [];
  let n = 0;
  return listen(
    async (req, body, res) => {
      if (opts.key && req.headers.authorization !== `Bearer ${opts.key}`) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: 'Incorrect API key provided' } }));
        return;
      }
      if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            object: 'list',
            data: (opts.models ?? ['fake-model']).map((id) => ({ id, object: 'model' })),
          }),
        );
        return;
      }
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404).end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      const reply = script({ messages: body.messages, tools: body.tools ?? [], body });
      if (reply.error) {
        res
          .writeHead(reply.error.status, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: { message: reply.error.message, type: 'invalid_request_error' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const id = `chatcmpl-${++n}`;
      const send = async (delta: object, finish: string | null = null) => {
        res.write(
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
        );
        await pause(15);
      };
      await send({ role: 'assistant', content: '' });
      if (reply.thinking) for (const p of pieces(reply.thinking)) await send({ reasoning_content: p });
      if (reply.text) for (const p of pieces(reply.text)) await send({ content: p });
      for (const [i, c] of (reply.calls ?? []).entries()) {
        const [first, ...rest] = pieces(JSON.stringify(c.arguments));
        await send({
          tool_calls: [
            { index: i, id: `call_${n}_${i}`, type: 'function', function: { name: c.name, arguments: first } },
          ],
        });
        for (const p of rest) await send({ tool_calls: [{ index: i, function: { arguments: p } }] });
      }
      await send({}, reply.calls?.length ? 'tool_calls' : 'stop');
      res.end('data: [DONE]\n\n');
    },
    requests,
    '/v1/chat/completions',
  );
}

/** The messages after the person's last one (the model's rounds of the request in progress). */
export function sinceLastUser(messages: any[]): any[] {
  const i = messages.map((m) => m.role).lastIndexOf('user');
  return messages.slice(i + 1);
}

/** The tool results of the request in progress, in order. */
export const toolResults = (messages: any[]) =>
  sinceLastUser(messages)
    .filter((m) => m.role === 'tool')
    .map((m) => String(m.content));
