import { describe, expect, it } from 'vitest';
import { sseEventsFromChunks } from '../../../src/shared/backend/sse-stream.ts';
import type { SseEvent } from '../../../src/shared/backend/sse-events.ts';

async function* chunksOf(...chunks: (string | Uint8Array)[]): AsyncGenerator<string | Uint8Array> {
  yield* chunks;
}

async function collect(source: AsyncIterable<SseEvent>): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of source) events.push(event);
  return events;
}

describe('sseEventsFromChunks', () => {
  it('reassembles frames split anywhere, even inside a UTF-8 character', async () => {
    const bytes = new TextEncoder().encode('data: {"content":{"parts":[{"text":"café ✓"}]},"author":"a"}\r\n\r\ndata:\n\n');
    const chunks = [...bytes].map((byte) => Uint8Array.of(byte));
    expect(await collect(sseEventsFromChunks(chunksOf(...chunks)))).toEqual([
      { kind: 'text', text: 'café ✓', partial: false, author: 'a' },
      { kind: 'heartbeat' },
    ]);
  });

  it('reads comments as heartbeats and a last frame without its blank line', async () => {
    expect(await collect(sseEventsFromChunks(chunksOf(': keep-alive\n\n', 'data: {"type":"text","text":"bye"}')))).toEqual([
      { kind: 'heartbeat' },
      { kind: 'text', text: 'bye', partial: false, author: undefined },
    ]);
  });

  it('ignores lines that are not SSE fields', async () => {
    expect(await collect(sseEventsFromChunks(chunksOf('garbage line\n\n', 'data: {"type":"heartbeat"}\n\n')))).toEqual([{ kind: 'heartbeat' }]);
  });
});
