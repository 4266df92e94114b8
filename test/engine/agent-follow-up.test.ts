import { describe, expect, it } from 'vitest';
import { planTurn, readInstruction, resolveSettings, type DraftPicture, type Settings, type Turn } from '../../src/shared/agent/index.ts';

const PICTURES: DraftPicture[] = ['a', 'b', 'c'].map((name) => ({ src: `http://e/files/1/${name}.jpg`, filename: `${name}.jpg`, kind: 'image' }));
const MUSIC = { src: 'http://e/files/1/song.mp3', filename: 'song.mp3' };

type Edit = Extract<Turn, { kind: 'edit' }>;

function expectEdit(turn: Turn): Edit {
  expect(turn.kind).toBe('edit');
  return turn as Edit;
}

const FIRST = expectEdit(
  planTurn({
    instruction:
      'Turn these photos into a video. Motion: zoom-in. Duration: 9 seconds. ' +
      'Add the text "Summer Sale" at the top from 0 s to 3 s. Add the text "Shop now" from 6 s to 9 s. Use the uploaded audio as background music at 40% volume.',
    pictures: PICTURES,
    music: MUSIC,
  }),
);
const BEFORE = resolveSettings(FIRST.request, PICTURES.length);

function followUp(instruction: string, previous: Edit = FIRST): Edit {
  return expectEdit(planTurn({ instruction, pictures: PICTURES, music: MUSIC, previous: { request: previous.request, draft: previous.draft } }));
}

const settingsAfter = (instruction: string) => resolveSettings(followUp(instruction).request, PICTURES.length);

describe('follow-up phrases', () => {
  it.each([
    ['make the zoom slower', { intensity: 'lower' }],
    ['slower please', { intensity: 'lower' }],
    ['slow it down', { intensity: 'lower' }],
    ['慢一点', { intensity: 'lower' }],
    ['make it faster', { intensity: 'higher' }],
    ['stronger', { intensity: 'higher' }],
    ['更快', { intensity: 'higher' }],
    ['remove the music', { removeMusic: true }],
    ['no music', { removeMusic: true }],
    ['去掉音乐', { removeMusic: true }],
    ['remove the captions', { removeText: true }],
    ['delete the text', { removeText: true }],
    ['去掉字幕', { removeText: true }],
    ['change the text to "Winter Sale"', { captionText: 'Winter Sale' }],
    ['change the text to Winter Sale. Make it 16:9', { captionText: 'Winter Sale' }],
    ['把字幕改成「冬季促销」', { captionText: '冬季促销' }],
  ])('%j', (text, edits) => {
    expect(readInstruction(text).edits).toEqual(edits);
  });

  it('takes the phrase out, so that its words count for nothing else', () => {
    expect(readInstruction('make the zoom slower').request).toEqual({});
    expect(readInstruction('remove the music').request).toEqual({});
    expect(readInstruction('change the text to zoom out in 16:9').request).toEqual({});
  });
});

describe('a follow-up edits the draft and keeps the rest', () => {
  it.each<[string, Partial<Settings>]>([
    ['make the zoom slower', { motion_intensity: 'subtle' }],
    ['faster', { motion_intensity: 'strong' }],
    ['make it 16:9', { aspect_ratio: '16:9' }],
    ['make it 12 seconds long', { duration_s: 12 }],
    ['use a pan to the left instead', { motion: 'pan-left' }],
    ['use wipe right transitions', { transition: 'wiperight' }],
    ['no transitions', { transition: 'none' }],
    ['remove the music', { audio: undefined }],
    ['remove the captions', { text: [] }],
    ['change the text to "Winter Sale"', { text: [{ ...BEFORE.text[0]!, text: 'Winter Sale' }, BEFORE.text[1]!] }],
  ])('%j changes exactly that', (instruction, changed) => {
    expect(settingsAfter(instruction)).toEqual({ ...BEFORE, ...changed });
  });

  it('steps the intensity from where it is, and stops at the ends', () => {
    const slower = followUp('make the zoom slower');
    expect(planTurn({ instruction: 'slower', pictures: PICTURES, music: MUSIC, previous: slower })).toMatchObject({ kind: 'reply' });
    const stronger = followUp('stronger');
    expect(resolveSettings(stronger.request, 3).motion_intensity).toBe('strong');
    expect(planTurn({ instruction: 'stronger', pictures: PICTURES, music: MUSIC, previous: stronger })).toMatchObject({ kind: 'reply' });
  });

  it('gives a caption spanning the video when the text is changed and there was none', () => {
    const plain = expectEdit(planTurn({ instruction: 'animate these', pictures: PICTURES }));
    const captioned = expectEdit(planTurn({ instruction: 'change the text to Hello', pictures: PICTURES, previous: plain }));
    expect(captioned.draft.t.find((track) => track.tt === 7)?.sg).toEqual([{ s: 0, d: 9000, m: { text: 'Hello', position: 'bottom', size: 'medium', color: '#ffffff' } }]);
  });

  it('drops the music track from the draft and keeps the captions and the video as they were', () => {
    const edit = followUp('remove the music');
    expect(edit.draft.t.map((track) => track.tt)).toEqual([0, 7]);
    expect(edit.draft.t[0]).toEqual(FIRST.draft.t[0]);
    expect(edit.draft.t[1]).toEqual(FIRST.draft.t[2]);
    expect(edit.toolArgs).toMatchObject({ operation: 'update_timeline', changed: ['audio'], music: null });
    expect(edit.text).toMatch(/^Done: I removed the background music\./);
  });

  it('says what changed', () => {
    expect(followUp('make it 16:9').text).toMatch(/^Done: the canvas is now 16:9 \(1920×1080\)\..*Export/);
    expect(followUp('make the zoom slower').text).toMatch(/^Done: the motion is slower now \(subtle\)\./);
    expect(followUp('change the text to "Winter Sale"').text).toMatch(/^Done: the caption now reads "Winter Sale"\./);
  });

  it('answers with text only when nothing changes, acknowledging an export', () => {
    const same = planTurn({ instruction: 'Motion: zoom-in.', pictures: PICTURES, music: MUSIC, previous: FIRST });
    expect(same).toEqual({ kind: 'reply', text: expect.stringMatching(/haven't changed anything/) });
    expect(planTurn({ instruction: '导出', pictures: PICTURES, music: MUSIC, previous: FIRST })).toEqual({
      kind: 'reply',
      text: expect.stringMatching(/^Your video is ready to export: click Export/),
    });
  });
});
