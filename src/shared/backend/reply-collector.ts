import type { SseEvent } from './sse-events.ts';

type ToolCallEvent = Extract<SseEvent, { kind: 'tool_call' }>;
type ToolResultEvent = Extract<SseEvent, { kind: 'tool_result' }>;
type ErrorEvent = Extract<SseEvent, { kind: 'error' }>;

export type ToolCall = Omit<ToolCallEvent, 'kind'>;
export type ToolResult = Omit<ToolResultEvent, 'kind'>;

/** What one `/run_sse` exchange amounted to. */
export interface CollectedReply {
  /** the reply's text messages, separated by blank lines; '' when none came */
  text: string;
  hasText: boolean;
  toolCalls: ToolCall[];
  toolResults: ToolResult[];
  /** the first in-stream error */
  error?: { code?: string; message: string };
}

/** The backend's boilerplate after a tool hiccup; it says nothing about the edit. */
const TEMPORARY_ISSUE = /I encountered a temporary issue/i;

/**
 * Folds a stream's events into its final reply, one event at a time, so a
 * caller can watch the events and still get the reply. With streaming on, an
 * author's `partial` chunks are followed by one non-partial event repeating
 * the whole text: that aggregate replaces the chunks rather than adding to them.
 */
export class ReplyAccumulator {
  private readonly messages: string[] = [];
  private pending = '';
  private pendingAuthor: string | undefined;
  private readonly toolCalls: ToolCall[] = [];
  private readonly toolResults: ToolResult[] = [];
  private firstError: ErrorEvent | undefined;

  add(event: SseEvent): void {
    switch (event.kind) {
      case 'text':
        return this.addText(event.text, event.partial, event.author);
      case 'tool_call':
        return addOnce(this.toolCalls, { id: event.id, name: event.name, args: event.args });
      case 'tool_result':
        return addOnce(this.toolResults, { id: event.id, name: event.name, response: event.response });
      case 'error':
        // the first error, unless a later one carries the code the first lacked
        if (!this.firstError || (!this.firstError.code && event.code)) this.firstError = event;
        return;
      case 'heartbeat':
        return;
    }
  }

  result(): CollectedReply {
    const messages = this.pending ? [...this.messages, this.pending] : [...this.messages];
    const last = messages.at(-1);
    if (last !== undefined && TEMPORARY_ISSUE.test(last)) messages.pop();
    const text = messages.join('\n\n').trim();
    return {
      text,
      hasText: text !== '',
      toolCalls: [...this.toolCalls],
      toolResults: [...this.toolResults],
      error: this.firstError && { code: this.firstError.code, message: this.firstError.message },
    };
  }

  private addText(text: string, partial: boolean, author: string | undefined): void {
    const continuesPending = this.pending !== '' && this.pendingAuthor === author;
    if (this.pending !== '' && !continuesPending) this.flushPending();
    if (partial) {
      this.pending += text;
      this.pendingAuthor = author;
      return;
    }
    // the aggregate that closes a run of partial chunks repeats them whole
    this.pending = '';
    this.messages.push(text);
  }

  private flushPending(): void {
    this.messages.push(this.pending);
    this.pending = '';
  }
}

/** Servers that repeat a tool event in the aggregate of a partial run repeat its id too. */
function addOnce<T extends { id?: string }>(list: T[], item: T): void {
  if (item.id !== undefined && list.some((existing) => existing.id === item.id)) return;
  list.push(item);
}

export function collectReply(events: Iterable<SseEvent>): CollectedReply {
  const accumulator = new ReplyAccumulator();
  for (const event of events) accumulator.add(event);
  return accumulator.result();
}
