import { describe, expect, it } from 'vitest';
import { collectReply, ReplyAccumulator } from '../../../src/shared/backend/reply-collector.ts';
import { eventsFromFrame, type SseEvent } from '../../../src/shared/backend/sse-events.ts';

const text = (t: string, partial = false, author = 'nemo_agent'): SseEvent => ({ kind: 'text', text: t, partial, author });

describe('collectReply', () => {
  it('does not double partial chunks followed by their aggregate', () => {
    const reply = collectReply([text('Added ', true), text('a slow ', true), text('zoom.', true), text('Added a slow zoom.')]);
    expect(reply.text).toBe('Added a slow zoom.');
    expect(reply.hasText).toBe(true);
  });

  it('does the same for real streamed frames', () => {
    const frames = [
      '{"content":{"parts":[{"text":"Zoom "}]},"partial":true,"author":"a"}',
      '{"type":"heartbeat"}',
      '{"content":{"parts":[{"text":"added."}]},"partial":true,"author":"a"}',
      '{"content":{"parts":[{"text":"Zoom added."}]},"author":"a","turnComplete":true}',
    ];
    expect(collectReply(frames.flatMap(eventsFromFrame)).text).toBe('Zoom added.');
  });

  it('keeps partial chunks that never got an aggregate', () => {
    expect(collectReply([text('Half ', true), text('done', true)]).text).toBe('Half done');
  });

  it('joins separate messages and keeps those around tool events', () => {
    const reply = collectReply([
      text('On it.'),
      { kind: 'tool_call', id: 'c1', name: 'edit_multitrack', args: { a: 1 } },
      { kind: 'tool_result', id: 'c1', name: 'edit_multitrack', response: { ok: true } },
      text('Done: a slow zoom.'),
    ]);
    expect(reply.text).toBe('On it.\n\nDone: a slow zoom.');
    expect(reply.toolCalls).toEqual([{ id: 'c1', name: 'edit_multitrack', args: { a: 1 } }]);
    expect(reply.toolResults).toEqual([{ id: 'c1', name: 'edit_multitrack', response: { ok: true } }]);
  });

  it('closes one author\'s partial run when another author speaks', () => {
    expect(collectReply([text('First', true, 'a'), text('Second', false, 'b')]).text).toBe('First\n\nSecond');
  });

  it('counts a repeated tool call (same id) once', () => {
    const call: SseEvent = { kind: 'tool_call', id: 'c1', name: 'edit_multitrack', args: {} };
    const unnamed: SseEvent = { kind: 'tool_call', name: 'generate_music', args: {} };
    expect(collectReply([call, call, unnamed, unnamed]).toolCalls).toHaveLength(3);
  });

  it('reports a tool-only reply as having no text', () => {
    const reply = collectReply([{ kind: 'heartbeat' }, { kind: 'tool_call', name: 'edit_multitrack', args: {} }, { kind: 'heartbeat' }]);
    expect(reply).toEqual({
      text: '',
      hasText: false,
      toolCalls: [{ id: undefined, name: 'edit_multitrack', args: {} }],
      toolResults: [],
      error: undefined,
    });
  });

  it('drops a trailing "I encountered a temporary issue" message', () => {
    expect(collectReply([text('Zoom added.'), text('I encountered a temporary issue. Please try again.')]).text).toBe('Zoom added.');
    const only = collectReply([{ kind: 'tool_call', name: 'edit_multitrack', args: {} }, text('I encountered a temporary issue.')]);
    expect(only.hasText).toBe(false);
  });

  it('keeps the first error', () => {
    const reply = collectReply([
      text('Trying.'),
      { kind: 'error', code: 'E1', message: 'first' },
      { kind: 'error', message: 'second' },
    ]);
    expect(reply.error).toEqual({ code: 'E1', message: 'first' });
    expect(reply.text).toBe('Trying.');
  });
});

describe('ReplyAccumulator', () => {
  it('gives the reply so far at any point', () => {
    const accumulator = new ReplyAccumulator();
    accumulator.add(text('One.'));
    expect(accumulator.result().text).toBe('One.');
    accumulator.add(text('Two.'));
    expect(accumulator.result().text).toBe('One.\n\nTwo.');
  });
});
