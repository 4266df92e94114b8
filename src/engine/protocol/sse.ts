import { randomUUID } from 'node:crypto';
import type { Dialect } from '../options.ts';

/**
 * The frames of one `/run_sse` reply, in the dialect's variant: ADK events
 * (camelCase or snake_case keys, text whole or as partial chunks) or the old
 * `{"type":…}` frames. Each frame is `data: <JSON>\n\n`; there are no `event:`
 * or `id:` lines and no end marker, the stream ends when the connection closes.
 *
 * Errors (e.g. out of credits) are one ADK event from author "system" whose
 * text is "Error: …" and which also carries errorCode/errorMessage, so either
 * reading finds them; old-style frames send `{"error":"…","code":…}`.
 * A coded failure (e.g. `engine_capability`) is the ADK variant without
 * content, only errorCode/errorMessage, so that the code is the first thing a
 * reader finds; old-style frames send `{"error":{"code":…,"message":…}}`.
 */

type Json = Record<string, unknown>;

const SNAKE_KEYS: Readonly<Record<string, string>> = {
  invocationId: 'invocation_id',
  functionCall: 'function_call',
  functionResponse: 'function_response',
  stateDelta: 'state_delta',
  artifactDelta: 'artifact_delta',
  requestedAuthConfigs: 'requested_auth_configs',
  turnComplete: 'turn_complete',
  errorCode: 'error_code',
  errorMessage: 'error_message',
};

/** Event keys to snake_case; tool args and responses are the tool's own data and stay as they are. */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [SNAKE_KEYS[key] ?? key, key === 'args' || key === 'response' ? inner : snakeKeys(inner)]),
  );
}

const frame = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;

/** Splits text at spaces into about `count` chunks that concatenate back to it. */
export function textChunks(text: string, count = 4): string[] {
  const words = text.split(/(?<= )/);
  const size = Math.ceil(words.length / count);
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += size) chunks.push(words.slice(i, i + size).join(''));
  return chunks;
}

export class SseFrames {
  private readonly invocationId = `e-${randomUUID()}`;

  constructor(
    private readonly dialect: Dialect,
    private readonly author: string,
    /** partial text chunks: the dialect streams, or the request asked for it */
    private readonly streaming: boolean,
  ) {}

  private event(fields: Json, author = this.author): string {
    const event = {
      ...fields,
      invocationId: this.invocationId,
      author,
      actions: { stateDelta: {}, artifactDelta: {}, requestedAuthConfigs: {} },
      id: randomUUID(),
      timestamp: Date.now() / 1000,
    };
    return frame(this.dialect.sseKeys === 'snake' ? snakeKeys(event) : event);
  }

  /** A tool call; its id is what the matching response names. */
  toolCall(name: string, args: Json): { id: string; frames: string[] } {
    const id = `adk-${randomUUID()}`;
    if (this.dialect.sseLegacyFrames) return { id, frames: [frame({ type: 'tool_call', id, name, args })] };
    return { id, frames: [this.event({ content: { parts: [{ functionCall: { id, name, args } }], role: 'model' } })] };
  }

  /** The old frames had no tool-result type: the result goes unsaid there. */
  toolResponse(id: string, name: string, response: Json): string[] {
    if (this.dialect.sseLegacyFrames) return [];
    return [this.event({ content: { parts: [{ functionResponse: { id, name, response } }], role: 'user' } })];
  }

  heartbeat(): string {
    return this.dialect.heartbeatStyle === 'empty' ? 'data:\n\n' : frame({ type: 'heartbeat' });
  }

  text(text: string): string[] {
    if (this.dialect.sseLegacyFrames) return [frame({ type: 'text', content: text })];
    const whole = this.event({ content: { parts: [{ text }], role: 'model' } });
    if (!this.streaming) return [whole];
    const partials = textChunks(text).map((chunk) => this.event({ content: { parts: [{ text: chunk }], role: 'model' }, partial: true }));
    return [...partials, whole];
  }

  error(code: number, message: string): string[] {
    if (this.dialect.sseLegacyFrames) return [frame({ error: message, code })];
    return [this.event({ content: { parts: [{ text: `Error: ${message}` }], role: 'model' }, errorCode: String(code), errorMessage: message }, 'system')];
  }

  codedError(code: string, message: string): string[] {
    if (this.dialect.sseLegacyFrames) return [frame({ error: { code, message } })];
    return [this.event({ errorCode: code, errorMessage: message }, 'system')];
  }
}
