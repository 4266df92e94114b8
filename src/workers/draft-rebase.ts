import type { BackendDraft } from '../shared/jobs/backend-draft.ts';
import type { BackendFileRef } from '../shared/jobs/job-record.ts';

/**
 * `draft` with each file it shows moved from `from[i]` to `to[i]`: the same
 * inputs uploaded again, in the same order, into a new session. A file is any
 * string in the draft equal to an old file's cdn_url (a backend's segments
 * name their files as it likes). Undefined when a segment's `src` names a
 * file that is not in `from`, or the uploads do not pair up: then it cannot
 * be rendered in the new session.
 */
export function rebaseDraft(draft: BackendDraft, from: readonly BackendFileRef[], to: readonly BackendFileRef[]): BackendDraft | undefined {
  if (from.length !== to.length || from.some((file, i) => file.fileType !== to[i]?.fileType)) return undefined;
  const moves = new Map(from.map((file, i) => [file.cdnUrl, (to[i] as BackendFileRef).cdnUrl]));
  let unknownFile = false;
  const move = (value: unknown, key?: string): unknown => {
    if (typeof value === 'string') {
      const moved = moves.get(value);
      if (!moved && key === 'src') unknownFile = true;
      return moved ?? value;
    }
    if (Array.isArray(value)) return value.map((item) => move(item));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, move(v, k)]));
    return value;
  };
  const moved = move(draft) as BackendDraft;
  return unknownFile ? undefined : moved;
}
