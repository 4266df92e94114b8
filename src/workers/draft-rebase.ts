import { TRACK_TYPE, type Draft, type Track } from '../shared/jobs/draft.ts';
import type { BackendFileRef } from '../shared/jobs/job-record.ts';

/**
 * `draft` with each file it shows moved from `from[i]` to `to[i]`: the same
 * inputs uploaded again, in the same order, into a new session. Undefined
 * when the draft names a file that is not in `from`, or the uploads do not
 * pair up: then it cannot be rendered in the new session.
 */
export function rebaseDraft(draft: Draft, from: readonly BackendFileRef[], to: readonly BackendFileRef[]): Draft | undefined {
  if (from.length !== to.length || from.some((file, i) => file.fileType !== to[i]?.fileType)) return undefined;
  const moves = new Map(from.map((file, i) => [file.cdnUrl, (to[i] as BackendFileRef).cdnUrl]));
  const moved = (src: string) => moves.get(src);
  const tracks: (Track | undefined)[] = draft.t.map((track) => {
    if (track.tt === TRACK_TYPE.text) return track;
    const segments = track.sg.map((segment) => {
      const src = moved(segment.src);
      return src ? { ...segment, src } : undefined;
    });
    if (segments.some((segment) => !segment)) return undefined;
    return { ...track, sg: segments } as Track;
  });
  return tracks.every(Boolean) ? { ...draft, t: tracks as Track[] } : undefined;
}
