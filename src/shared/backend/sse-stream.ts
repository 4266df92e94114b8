import { createParser } from 'eventsource-parser';
import { BackendError } from '../errors/backend-error.ts';
import { eventsFromFrame, type SseEvent } from './sse-events.ts';

/** A frame larger than this is not a reply but a broken stream. */
const MAX_FRAME_CHARS = 16 * 1024 * 1024;

/**
 * Turns the raw bytes of an event stream into events, however the bytes are
 * split. SSE comments count as heartbeats. The stream ends when the bytes end
 * (no `[DONE]`); a last frame missing its blank line is still read.
 */
export async function* sseEventsFromChunks(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const ready: SseEvent[] = [];
  let overflow = false;
  const parser = createParser({
    maxBufferSize: MAX_FRAME_CHARS,
    onEvent: (message) => ready.push(...eventsFromFrame(message.data)),
    onComment: () => ready.push({ kind: 'heartbeat' }),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = true;
    },
  });
  const decoder = new TextDecoder();
  const feed = (text: string) => {
    parser.feed(text);
    if (overflow) {
      throw new BackendError('stream', `run_sse: a frame exceeded ${MAX_FRAME_CHARS} characters`, { endpoint: 'run_sse' });
    }
  };
  for await (const chunk of chunks) {
    feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    yield* ready.splice(0);
  }
  feed(`${decoder.decode()}\n\n`);
  yield* ready.splice(0);
}
