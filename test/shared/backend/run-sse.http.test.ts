import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BackendClient } from '../../../src/shared/backend/client.ts';
import { collectReply } from '../../../src/shared/backend/reply-collector.ts';
import type { SseEvent } from '../../../src/shared/backend/sse-events.ts';
import { BackendError } from '../../../src/shared/errors/backend-error.ts';
import { ReplayServer, sendJson, startEventStream, writeChunks } from './replay-server.ts';

const TOKEN = 'nmv_usr_sse_token';
const skill = { source: 'diffusion-video', version: '2.0.0', platform: 'unknown' } as const;

let server: ReplayServer;
let client: BackendClient;

beforeAll(async () => {
  server = await ReplayServer.start();
  client = new BackendClient({ baseUrl: server.url, skill, token: TOKEN, timeouts: { sseIdleMs: 300 } });
});

afterAll(async () => {
  await client.close();
  await server.close();
});

beforeEach(() => server.reset());

async function drain(events: AsyncIterable<SseEvent>, seen: SseEvent[] = []): Promise<SseEvent[]> {
  for await (const event of events) seen.push(event);
  return seen;
}

async function streamFailure(events: AsyncIterable<SseEvent>, seen: SseEvent[] = []): Promise<BackendError> {
  const error = await drain(events, seen).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BackendError);
  return error as BackendError;
}

const PARTIAL_1 = '{"content":{"parts":[{"text":"Adding a slow "}],"role":"model"},"partial":true,"author":"nemo_agent","invocationId":"e-1"}';
const PARTIAL_2 = '{"content":{"parts":[{"text":"zoom."}],"role":"model"},"partial":true,"author":"nemo_agent","invocationId":"e-1"}';
const CALL =
  '{"content":{"parts":[{"functionCall":{"id":"adk-1","name":"edit_multitrack","args":{"motion":"zoom-in"}}}],"role":"model"},"author":"nemo_agent"}';
const RESULT =
  '{"content":{"parts":[{"function_response":{"id":"adk-1","name":"edit_multitrack","response":{"ok":true}}}],"role":"user"},"author":"nemo_agent"}';
const AGGREGATE =
  '{"content":{"parts":[{"text":"Adding a slow zoom."}],"role":"model"},"author":"nemo_agent","turnComplete":true,"id":"u-9","timestamp":1766531349.16}';

describe('runSse', () => {
  it('sends the ADK body and reads frames split across TCP chunks at awkward places', async () => {
    const stream = [
      `data: ${PARTIAL_1}\n\n`,
      'data:\n\n',
      `data: ${PARTIAL_2}\n\ndata: {"type":"heart`,
      'beat"}\n\n',
      `data: ${CALL.slice(0, 40)}`,
      `${CALL.slice(40)}\n`,
      `\ndata: ${RESULT}\r\n\r\n: keep-alive\n\nnot sse at all\n\ndata: ${AGGREGATE.slice(0, 77)}`,
      `${AGGREGATE.slice(77)}\n\n`,
    ];
    server.on('POST /run_sse', async (_req, res) => {
      startEventStream(res);
      await writeChunks(res, stream);
      res.end();
    });

    const events = await drain(client.runSse('5529798706024415232', 'animate with a slow zoom', { streaming: true }));
    expect(events.map((e) => e.kind)).toEqual(['text', 'heartbeat', 'text', 'heartbeat', 'tool_call', 'tool_result', 'heartbeat', 'text']);
    const reply = collectReply(events);
    expect(reply.text).toBe('Adding a slow zoom.');
    expect(reply.toolCalls).toEqual([{ id: 'adk-1', name: 'edit_multitrack', args: { motion: 'zoom-in' } }]);
    expect(reply.toolResults).toEqual([{ id: 'adk-1', name: 'edit_multitrack', response: { ok: true } }]);

    const request = server.last();
    expect(request.headers).toMatchObject({
      accept: 'text/event-stream',
      authorization: `Bearer ${TOKEN}`,
      'x-skill-source': 'diffusion-video',
      'x-skill-version': '2.0.0',
      'x-skill-platform': 'unknown',
    });
    expect(JSON.parse(request.body.toString())).toEqual({
      app_name: 'nemo_agent',
      user_id: 'me',
      session_id: '5529798706024415232',
      new_message: { parts: [{ text: 'animate with a slow zoom' }] },
      streaming: true,
    });
  });

  it('leaves streaming out of the body unless asked', async () => {
    server.on('POST /run_sse', async (_req, res) => {
      startEventStream(res);
      await writeChunks(res, ['data: {"type":"text","text":"ok"}\n\n']);
      res.end();
    });
    expect(collectReply(await drain(client.runSse('55', 'hi'))).text).toBe('ok');
    expect(JSON.parse(server.last().body.toString())).not.toHaveProperty('streaming');
  });

  it('reads in-stream errors as events', async () => {
    server.on('POST /run_sse', async (_req, res) => {
      startEventStream(res);
      await writeChunks(res, [
        'data: {"content":{"parts":[{"text":"Error: generation failed"}]},"author":"system"}\n\n',
        'data: {"error":"older server failure"}\n\n',
        'data: {"errorCode":"SAFETY","errorMessage":"blocked"}\n\n',
      ]);
      res.end();
    });
    const events = await drain(client.runSse('55', 'hi'));
    expect(events.filter((e) => e.kind === 'error').map((e) => e.message)).toEqual(['generation failed', 'older server failure', 'blocked']);
    const reply = collectReply(events);
    // the reply's error is the first one that says which error it is
    expect(reply.error).toEqual({ code: 'SAFETY', message: 'blocked' });
    expect(reply.hasText).toBe(false);
  });

  it('turns a 404 before the stream into 1002', async () => {
    server.on('POST /run_sse', (_req, res) => sendJson(res, 404, { detail: 'Session not found' }));
    expect(await streamFailure(client.runSse('missing', 'hi'))).toMatchObject({
      code: 1002,
      detail: { endpoint: 'run_sse', httpStatus: 404 },
    });
  });

  it('turns a JSON envelope instead of a stream into its code', async () => {
    server.on('POST /run_sse', (_req, res) => sendJson(res, 200, { code: 1001, message: 'token expired' }));
    expect(await streamFailure(client.runSse('55', 'hi'))).toMatchObject({ code: 1001, detail: { endpoint: 'run_sse' } });
  });

  it('fails a stream that stalls past the idle timeout, after the events that came', async () => {
    server.on('POST /run_sse', async (_req, res) => {
      startEventStream(res);
      await writeChunks(res, ['data: {"type":"heartbeat"}\n\n']);
    });
    const seen: SseEvent[] = [];
    const error = await streamFailure(client.runSse('55', 'hi'), seen);
    expect(error).toMatchObject({ code: 'timeout', detail: { endpoint: 'run_sse', httpStatus: 200 } });
    expect(seen).toEqual([{ kind: 'heartbeat' }]);
  });

  it('calls a connection dropped mid-stream a broken stream', async () => {
    server.on('POST /run_sse', async (_req, res) => {
      startEventStream(res);
      await writeChunks(res, [`data: ${PARTIAL_1}\n\ndata: {"content":{"par`]);
      res.socket?.destroy();
    });
    const seen: SseEvent[] = [];
    expect(await streamFailure(client.runSse('55', 'hi'), seen)).toMatchObject({ code: 'stream', detail: { endpoint: 'run_sse' } });
    expect(seen.map((e) => e.kind)).toEqual(['text']);
  });

  it('ends as aborted when the signal fires mid-stream', async () => {
    server.on('POST /run_sse', async (_req, res) => {
      startEventStream(res);
      await writeChunks(res, ['data: {"type":"heartbeat"}\n\n']);
    });
    const controller = new AbortController();
    const error = await (async () => {
      try {
        for await (const event of client.runSse('55', 'hi', { signal: controller.signal })) {
          if (event.kind === 'heartbeat') controller.abort();
        }
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 'aborted', detail: { endpoint: 'run_sse' } });
  });

  it('ends as aborted when the signal fires before the reply', async () => {
    server.on('POST /run_sse', () => undefined);
    const controller = new AbortController();
    const events = client.runSse('55', 'hi', { signal: controller.signal });
    const pending = streamFailure(events);
    controller.abort();
    expect(await pending).toMatchObject({ code: 'aborted' });
  });

  it('sends nothing until iterated, and closes the stream when the loop breaks', async () => {
    let closed!: () => void;
    const streamClosed = new Promise<void>((resolve) => (closed = resolve));
    server.on('POST /run_sse', async (_req, res) => {
      res.on('close', closed);
      startEventStream(res);
      await writeChunks(res, ['data: {"type":"text","text":"first"}\n\n']);
    });
    const events = client.runSse('55', 'hi');
    expect(server.requests).toHaveLength(0);
    for await (const event of events) {
      expect(event.kind).toBe('text');
      break;
    }
    await streamClosed;
    expect(server.requests).toHaveLength(1);
  });
});
