import { describe, expect, it } from 'vitest';
import { eventsFromFrame } from '../../../src/shared/backend/sse-events.ts';
import { collectReply } from '../../../src/shared/backend/reply-collector.ts';

describe('eventsFromFrame: ADK events', () => {
  it('reads a camelCase text event', () => {
    const frame =
      '{"content":{"parts":[{"text":"Added a slow zoom."}],"role":"model"},"invocationId":"e-1","author":"nemo_agent",' +
      '"actions":{"stateDelta":{},"artifactDelta":{},"requestedAuthConfigs":{}},"id":"u-1","timestamp":1766531349.16}';
    expect(eventsFromFrame(frame)).toEqual([{ kind: 'text', text: 'Added a slow zoom.', partial: false, author: 'nemo_agent' }]);
  });

  it('reads a function call and a function response', () => {
    const call =
      '{"content":{"parts":[{"functionCall":{"id":"adk-1","name":"edit_multitrack","args":{"motion":"zoom-in"}}}],"role":"model"},"author":"nemo_agent"}';
    const response =
      '{"content":{"parts":[{"functionResponse":{"id":"adk-1","name":"edit_multitrack","response":{"ok":true}}}],"role":"user"},"author":"nemo_agent"}';
    expect(eventsFromFrame(call)).toEqual([{ kind: 'tool_call', id: 'adk-1', name: 'edit_multitrack', args: { motion: 'zoom-in' } }]);
    expect(eventsFromFrame(response)).toEqual([{ kind: 'tool_result', id: 'adk-1', name: 'edit_multitrack', response: { ok: true } }]);
  });

  it('reads the snake_case keys of older servers', () => {
    const call =
      '{"content":{"parts":[{"function_call":{"id":"adk-2","name":"generate_music","args":{"mood":"calm"}}}]},"invocation_id":"e-2","author":"a","turn_complete":false}';
    const response = '{"content":{"parts":[{"function_response":{"id":"adk-2","name":"generate_music","response":{"url":"x"}}}]}}';
    const error = '{"error_code":"RESOURCE_EXHAUSTED","error_message":"quota exceeded","invocation_id":"e-3"}';
    expect(eventsFromFrame(call)).toEqual([{ kind: 'tool_call', id: 'adk-2', name: 'generate_music', args: { mood: 'calm' } }]);
    expect(eventsFromFrame(response)).toEqual([{ kind: 'tool_result', id: 'adk-2', name: 'generate_music', response: { url: 'x' } }]);
    expect(eventsFromFrame(error)).toEqual([{ kind: 'error', code: 'RESOURCE_EXHAUSTED', message: 'quota exceeded' }]);
  });

  it('gives one event per part, in order', () => {
    const frame =
      '{"content":{"parts":[{"text":"Working on it. "},{"functionCall":{"name":"edit_multitrack","args":{}}},{"text":"Done."}]},"author":"a"}';
    expect(eventsFromFrame(frame)).toEqual([
      { kind: 'text', text: 'Working on it. ', partial: false, author: 'a' },
      { kind: 'tool_call', id: undefined, name: 'edit_multitrack', args: {} },
      { kind: 'text', text: 'Done.', partial: false, author: 'a' },
    ]);
  });

  it('marks partial chunks', () => {
    expect(eventsFromFrame('{"content":{"parts":[{"text":"Hel"}]},"partial":true,"author":"a"}')).toEqual([
      { kind: 'text', text: 'Hel', partial: true, author: 'a' },
    ]);
  });

  it('skips thought parts and events with nothing to tell', () => {
    expect(eventsFromFrame('{"content":{"parts":[{"text":"let me think","thought":true}]},"author":"a"}')).toEqual([]);
    expect(eventsFromFrame('{"actions":{"stateDelta":{"x":1}},"author":"a","turnComplete":true}')).toEqual([]);
    expect(eventsFromFrame('{"content":{"parts":[{"text":""}]}}')).toEqual([]);
  });

  it('reads in-stream errors: system "Error: " text, errorCode/errorMessage, and the old {"error"}', () => {
    expect(eventsFromFrame('{"content":{"parts":[{"text":"Error: model overloaded"}]},"author":"system"}')).toEqual([
      { kind: 'error', code: undefined, message: 'model overloaded' },
    ]);
    expect(eventsFromFrame('{"errorCode":"MALFORMED_FUNCTION_CALL","errorMessage":"bad call"}')).toEqual([
      { kind: 'error', code: 'MALFORMED_FUNCTION_CALL', message: 'bad call' },
    ]);
    expect(eventsFromFrame('{"errorCode":"SAFETY"}')).toEqual([{ kind: 'error', code: 'SAFETY', message: 'SAFETY' }]);
    expect(eventsFromFrame('{"error":"Session expired"}')).toEqual([{ kind: 'error', code: undefined, message: 'Session expired' }]);
    expect(eventsFromFrame('{"error":{"code":"1002","message":"session not found"}}')).toEqual([
      { kind: 'error', code: '1002', message: 'session not found' },
    ]);
  });

  it('keeps an "Error: " text from a non-system author as text', () => {
    expect(eventsFromFrame('{"content":{"parts":[{"text":"Error: none found"}]},"author":"nemo_agent"}')[0]?.kind).toBe('text');
  });
});

describe('eventsFromFrame: heartbeats and old frames', () => {
  it('reads heartbeats: {"type":"heartbeat"}, an empty data line, non-JSON data', () => {
    expect(eventsFromFrame('{"type":"heartbeat"}')).toEqual([{ kind: 'heartbeat' }]);
    expect(eventsFromFrame('')).toEqual([{ kind: 'heartbeat' }]);
    expect(eventsFromFrame('  ')).toEqual([{ kind: 'heartbeat' }]);
    expect(eventsFromFrame('ping')).toEqual([{ kind: 'heartbeat' }]);
    expect(eventsFromFrame('{"content":')).toEqual([{ kind: 'heartbeat' }]);
    expect(eventsFromFrame('42')).toEqual([{ kind: 'heartbeat' }]);
  });

  it('reads the old {"type":"text"|"tool_call"|…} frames', () => {
    expect(eventsFromFrame('{"type":"text","content":"Your video is ready."}')).toEqual([
      { kind: 'text', text: 'Your video is ready.', partial: false, author: undefined },
    ]);
    expect(eventsFromFrame('{"type":"text","text":"Hi","partial":true}')).toEqual([{ kind: 'text', text: 'Hi', partial: true, author: undefined }]);
    expect(eventsFromFrame('{"type":"tool_call","tool":"generate_video_with_seedance","arguments":"{\\"seconds\\":5}"}')).toEqual([
      { kind: 'tool_call', id: undefined, name: 'generate_video_with_seedance', args: { seconds: 5 } },
    ]);
    expect(eventsFromFrame('{"type":"tool_result","name":"edit_multitrack","result":{"ok":true}}')).toEqual([
      { kind: 'tool_result', id: undefined, name: 'edit_multitrack', response: { ok: true } },
    ]);
    expect(eventsFromFrame('{"type":"error","message":"boom","code":"E1"}')).toEqual([{ kind: 'error', code: 'E1', message: 'boom' }]);
    expect(eventsFromFrame('{"type":"done"}')).toEqual([]);
  });
});

describe('coded in-stream errors', () => {
  it('keeps the code of a system error text sent with errorCode in the same event', () => {
    const frame = JSON.stringify({ author: 'system', content: { parts: [{ text: 'Error: insufficient credits' }], role: 'model' }, errorCode: '2001' });
    expect(eventsFromFrame(frame)).toEqual([{ kind: 'error', code: '2001', message: 'insufficient credits' }]);
  });

  it('reads a top-level code beside a legacy error string', () => {
    expect(eventsFromFrame(JSON.stringify({ error: 'cannot generate', code: 'engine_capability' }))).toEqual([
      { kind: 'error', code: 'engine_capability', message: 'cannot generate' },
    ]);
  });

  it('reports the coded error when a code-less one came first', () => {
    const reply = collectReply([
      { kind: 'error', message: 'something failed' },
      { kind: 'error', code: '2001', message: 'insufficient credits' },
    ]);
    expect(reply.error).toEqual({ code: '2001', message: 'insufficient credits' });
  });
});
