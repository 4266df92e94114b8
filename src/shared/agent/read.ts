import type { FollowUpEdits } from './follow-up.ts';
import {
  CAPTIONS,
  COMPOSED_SENTENCES,
  FOLLOW_UP_EDITS,
  INTENTS,
  KEYWORDS,
  NOT_THE_DURATION,
  QUOTED_TEXT,
  type Intents,
  type Rule,
  type Section,
} from './grammar.ts';
import { overlay, type AgentRequest } from './request.ts';
import { Remaining } from './text-patterns.ts';

/** Everything one instruction says. */
export interface InstructionReading extends Intents {
  /** the options it states, in the job options' vocabulary */
  request: AgentRequest;
  /** changes to what earlier instructions of the session asked for */
  edits: FollowUpEdits;
  /** the names of the grammar's rules that took or read something, in reading order (for the grammar's test; nothing else reads it) */
  rules: string[];
}

/** A walk over the grammar (grammar.ts): the text left to read and the rules that have read something. */
class Walk {
  readonly rules: string[] = [];
  readonly rest: Remaining;

  constructor(text: string) {
    this.rest = new Remaining(text);
  }

  /** The first of `rules` found, taken out of the text, and what it reads. */
  takeFirst<T>(rules: readonly Rule<T>[]): T | undefined {
    for (const rule of rules) {
      const match = this.rest.take(rule.pattern);
      if (match) {
        this.rules.push(rule.name);
        return rule.read(match);
      }
    }
    return undefined;
  }

  /** Each of `rules` wherever it is found, taken out of the text, in order, and what they read. */
  takeEvery<T>(rules: readonly Rule<T>[]): T[] {
    return rules.flatMap((rule) =>
      this.rest.takeAll(rule.pattern).flatMap((match) => {
        this.rules.push(rule.name);
        return rule.read(match) ?? [];
      }),
    );
  }

  /** The first of `rules` that reads something in `text`, what it reads and where; the text stays as it is. */
  testFirst<T>(rules: readonly Rule<T>[], text: string): { value: T; index: number } | undefined {
    for (const rule of rules) {
      const match = rule.pattern.exec(text);
      const value = match ? rule.read(match) : undefined;
      if (match && value !== undefined) {
        this.rules.push(rule.name);
        return { value, index: match.index };
      }
    }
    return undefined;
  }

  /** Per key of a section, what its first rule found reads (taken out, or only tested); keys with nothing read are left out. */
  section<T>(section: Section<T>, mode: 'take' | 'test'): Partial<T> {
    const read: Partial<T> = {};
    const text = this.rest.text;
    for (const key of Object.keys(section) as (keyof T)[]) {
      const rules = section[key] as readonly Rule<T[keyof T]>[];
      const value = mode === 'take' ? this.takeFirst(rules) : this.testFirst(rules, text)?.value;
      if (value !== undefined) read[key] = value;
    }
    return read;
  }

  /**
   * Peels the composed option sentences off the end of the text one at a
   * time, the marker first, then the first sentence that reads: the text left
   * is the prompt.
   */
  peelComposedSentences(): { request: AgentRequest; replacesCaptions: boolean } {
    let request: AgentRequest = {};
    let replacesCaptions = false;
    for (;;) {
      const marker = this.testFirst([COMPOSED_SENTENCES.replaceCaptions], this.rest.text);
      if (marker) {
        replacesCaptions = true;
        this.rest.text = this.rest.text.slice(0, marker.index);
        continue;
      }
      const last = this.testFirst(COMPOSED_SENTENCES.sentences, this.rest.text);
      if (!last) return { request, replacesCaptions };
      request = overlay(last.value, request);
      this.rest.text = this.rest.text.slice(0, last.index);
    }
  }
}

/**
 * Reads an instruction in the grammar's order: the composed option sentences
 * at its end; then, in the prompt before them, the follow-up edits, the
 * captions and the quoted text (taken out), the intents, the phrases whose
 * numbers are not the duration (taken out), and the keywords of whatever
 * remains. The composed sentences win over the prompt where both set an option.
 */
export function readInstruction(text: string): InstructionReading {
  const walk = new Walk(text);
  const { request: composed, replacesCaptions } = walk.peelComposedSentences();
  const edits: FollowUpEdits = walk.section(FOLLOW_UP_EDITS, 'take');
  if (replacesCaptions) edits.replaceCaptions = true;
  const captions = walk.takeEvery(CAPTIONS);
  walk.takeEvery([QUOTED_TEXT]);
  const intents = walk.section(INTENTS, 'test');
  const numbers = NOT_THE_DURATION.flatMap((rule) => walk.takeFirst([rule]) ?? []);
  const options = walk.section(KEYWORDS, 'test');
  const free = [...numbers, ...(captions.length > 0 ? [{ text: captions }] : [])].reduce(overlay, options);
  return {
    request: overlay(free, composed),
    edits,
    asksForGeneration: intents.asksForGeneration ?? false,
    asksForExport: intents.asksForExport ?? false,
    rules: walk.rules,
  };
}

/** The options an instruction states (see `readInstruction`). */
export function parseInstruction(text: string): AgentRequest {
  return readInstruction(text).request;
}
