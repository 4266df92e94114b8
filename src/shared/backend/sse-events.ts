import { asRecord, parseJson, pick, pickString, type JsonRecord } from './json-reading.ts';

/** One thing the `/run_sse` stream said, whatever server version said it. */
export type SseEvent =
  | { kind: 'text'; text: string; partial: boolean; author?: string }
  | { kind: 'tool_call'; id?: string; name: string; args: Record<string, unknown> }
  | { kind: 'tool_result'; id?: string; name: string; response: unknown }
  | { kind: 'heartbeat' }
  | { kind: 'error'; code?: string; message: string };

const SYSTEM_ERROR_PREFIX = 'Error: ';

function heartbeat(): SseEvent {
  return { kind: 'heartbeat' };
}

/** Tool arguments as an object; OpenAI-style servers send them as a JSON string. */
function argsOf(value: unknown): Record<string, unknown> {
  return asRecord(typeof value === 'string' ? parseJson(value) : value) ?? {};
}

function toolCall(call: JsonRecord, nameKeys: string[], argKeys: string[]): SseEvent {
  return {
    kind: 'tool_call',
    id: pickString(call, 'id', 'call_id', 'tool_call_id'),
    name: pickString(call, ...nameKeys) ?? 'unknown',
    args: argsOf(pick(call, ...argKeys)),
  };
}

function toolResult(result: JsonRecord, nameKeys: string[], responseKeys: string[]): SseEvent {
  return {
    kind: 'tool_result',
    id: pickString(result, 'id', 'call_id', 'tool_call_id'),
    name: pickString(result, ...nameKeys) ?? 'unknown',
    response: pick(result, ...responseKeys) ?? null,
  };
}

function errorEvent(message: string | undefined, code?: string): SseEvent {
  return { kind: 'error', code, message: message || code || 'unknown backend error' };
}

/** `{"error":"…","code":…}` or `{"error":{"message","code"}}` from older servers. */
function legacyError(value: unknown, topLevelCode: string | undefined): SseEvent {
  if (typeof value === 'string') return errorEvent(value, topLevelCode);
  const error = asRecord(value);
  return errorEvent(pickString(error, 'message', 'msg') ?? JSON.stringify(value), pickString(error, 'code') ?? topLevelCode);
}

/** One ADK part: text, a function call or a function response. */
function partEvents(part: JsonRecord, author: string | undefined, partial: boolean): SseEvent[] {
  const events: SseEvent[] = [];
  const text = pick(part, 'text');
  // thought parts are the model's reasoning, not its reply
  if (typeof text === 'string' && text !== '' && part.thought !== true) {
    if (author === 'system' && text.startsWith(SYSTEM_ERROR_PREFIX)) {
      events.push(errorEvent(text.slice(SYSTEM_ERROR_PREFIX.length)));
    } else {
      events.push({ kind: 'text', text, partial, author });
    }
  }
  const call = asRecord(pick(part, 'functionCall', 'function_call'));
  if (call) events.push(toolCall(call, ['name'], ['args']));
  const response = asRecord(pick(part, 'functionResponse', 'function_response'));
  if (response) events.push(toolResult(response, ['name'], ['response']));
  return events;
}

/** An ADK Event (camelCase, or snake_case from older servers). */
function adkEvents(frame: JsonRecord): SseEvent[] {
  const author = pickString(frame, 'author');
  const partial = pick(frame, 'partial') === true;
  const parts = pick(asRecord(frame.content), 'parts');
  const events = Array.isArray(parts)
    ? parts.flatMap((part) => {
        const record = asRecord(part);
        return record ? partEvents(record, author, partial) : [];
      })
    : [];
  const code = pickString(frame, 'errorCode', 'error_code');
  const message = pickString(frame, 'errorMessage', 'error_message');
  if (code === undefined && message === undefined) return events;
  // a system "Error: …" text and an error code in one event are one error, with that code
  const textError = events.find((e) => e.kind === 'error');
  const rest = events.filter((e) => e.kind !== 'error');
  return [...rest, errorEvent(message ?? (textError?.kind === 'error' ? textError.message : undefined), code)];
}

/** The `{"type":"text"|"tool_call"|"heartbeat",…}` frames of one old server version. */
function legacyEvents(type: string, frame: JsonRecord): SseEvent[] {
  switch (type) {
    case 'heartbeat':
    case 'ping':
    case 'keepalive':
      return [heartbeat()];
    case 'text':
    case 'message':
    case 'delta': {
      const text = pickString(frame, 'text', 'content', 'delta', 'message');
      if (!text) return [];
      const partial = frame.partial === true || type === 'delta';
      return [{ kind: 'text', text, partial, author: pickString(frame, 'author') }];
    }
    case 'tool_call':
    case 'function_call':
      return [toolCall(frame, ['name', 'tool', 'tool_name', 'function'], ['args', 'arguments', 'input', 'parameters'])];
    case 'tool_result':
    case 'tool_response':
    case 'function_response':
      return [toolResult(frame, ['name', 'tool', 'tool_name', 'function'], ['response', 'result', 'output', 'content'])];
    case 'error':
      return [errorEvent(pickString(frame, 'message', 'error', 'text'), pickString(frame, 'code'))];
    default:
      return [];
  }
}

/**
 * The events of one `data:` frame. An empty frame and a non-JSON one are
 * heartbeats: they only prove the stream is alive. A frame may hold several
 * parts, hence several events; one with nothing to tell gives none.
 */
export function eventsFromFrame(data: string): SseEvent[] {
  if (data.trim() === '') return [heartbeat()];
  const frame = asRecord(parseJson(data));
  if (!frame) return [heartbeat()];
  if (!asRecord(frame.content)) {
    const type = pickString(frame, 'type');
    if (type !== undefined) return legacyEvents(type.toLowerCase(), frame);
    if (frame.error !== undefined && frame.error !== null) return [legacyError(frame.error, pickString(frame, 'code'))];
  }
  return adkEvents(frame);
}
