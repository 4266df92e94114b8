import { describe, expect, it } from 'vitest';
import type { BackendDraft } from '../../src/shared/jobs/backend-draft.ts';
import type { BackendFileRef } from '../../src/shared/jobs/job-record.ts';
import { rebaseDraft } from '../../src/workers/draft-rebase.ts';

const file = (session: string, name: string, fileType = 'image'): BackendFileRef => ({ filename: name, fileType, cdnUrl: `http://engine/files/${session}/${name}` });

const oldFiles = [file('1', 'a.jpg'), file('1', 'b.jpg'), file('1', 'm.mp3', 'audio')];
const newFiles = [file('2', 'a2.jpg'), file('2', 'b2.jpg'), file('2', 'm2.mp3', 'audio')];

const draft = (srcs: string[], music?: string): BackendDraft =>
  ({
    t: [
      { tt: 0, sg: srcs.map((src, i) => ({ s: i * 1000, d: 1000, src, m: { name: `p${i}` } })) },
      ...(music ? [{ tt: 1, sg: [{ s: 0, d: 2000, src: music, m: { volume: 0.35 } }] }] : []),
      { tt: 7, sg: [{ s: 0, d: 1000, m: { text: 'Sale' } }] },
    ],
    d: 2000,
    m: { width: 320, height: 320, fps: 30 },
  }) as BackendDraft;

describe('a saved draft moved into a new session', () => {
  it('points at the files uploaded again, in upload order, and keeps everything else', () => {
    const saved = draft([oldFiles[1]!.cdnUrl, oldFiles[0]!.cdnUrl], oldFiles[2]!.cdnUrl);
    expect(rebaseDraft(saved, oldFiles, newFiles)).toEqual(draft([newFiles[1]!.cdnUrl, newFiles[0]!.cdnUrl], newFiles[2]!.cdnUrl));
  });

  it('cannot be moved when it shows a file that was not uploaded for the job, or the uploads do not pair up', () => {
    expect(rebaseDraft(draft(['http://engine/files/1/other.jpg']), oldFiles, newFiles)).toBeUndefined();
    expect(rebaseDraft(draft([oldFiles[0]!.cdnUrl]), oldFiles, newFiles.slice(0, 2))).toBeUndefined();
    expect(rebaseDraft(draft([oldFiles[0]!.cdnUrl]), oldFiles, [newFiles[0]!, newFiles[2]!, newFiles[1]!])).toBeUndefined();
  });
});
