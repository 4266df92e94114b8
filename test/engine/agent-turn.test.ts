import { describe, expect, it } from 'vitest';
import { planTurn, type DraftPicture } from '../../src/shared/agent/index.ts';
import { SKILL_SOURCE } from '../../src/shared/jobs/presets.ts';

const PHOTO: DraftPicture = { src: 'http://e/files/1/a.jpg', filename: 'a.jpg', kind: 'image' };
const MUSIC = { src: 'http://e/files/1/song.mp3', filename: 'song.mp3' };

describe('planTurn', () => {
  it.each([SKILL_SOURCE.diffusion, SKILL_SOURCE.pixverse])('refuses the generative skill %s, naming the cloud backend setting', (skillSource) => {
    const turn = planTurn({ instruction: 'animate this image', skillSource, pictures: [PHOTO] });
    expect(turn).toEqual({ kind: 'refuse', text: expect.stringMatching(/no model to generate video/), errorMessage: expect.stringContaining('BACKEND_URL') });
    expect(turn.kind === 'refuse' && turn.errorMessage).toMatch(/https:\/\/mega-api-prod\.nemovideo\.ai.*NEMO_TOKEN/);
  });

  it('refuses a prompt that plainly asks for AI generation, even with no upload, and serves the other skills', () => {
    expect(planTurn({ instruction: 'animate this image into a 5-second diffusion video with cinematic motion', pictures: [] }).kind).toBe('refuse');
    expect(planTurn({ instruction: 'animate this image', skillSource: SKILL_SOURCE.motion, pictures: [PHOTO] }).kind).toBe('edit');
    expect(planTurn({ instruction: 'animate this image', skillSource: SKILL_SOURCE.slideshow, pictures: [PHOTO] }).kind).toBe('edit');
  });

  it('asks for an upload when there is nothing to animate', () => {
    expect(planTurn({ instruction: 'animate this image', pictures: [], music: MUSIC })).toEqual({ kind: 'reply', text: expect.stringMatching(/upload/) });
  });

  it('describes a new timeline in the GUI-minded voice, with the edit tool’s arguments', () => {
    const turn = planTurn({
      instruction: 'animate this image with a slow zoom-in, 5 seconds, add the caption "Hi", background music',
      pictures: [PHOTO],
      music: MUSIC,
    });
    expect(turn).toMatchObject({
      kind: 'edit',
      text: expect.stringMatching(/^I've added a 5s slow zoom-in to your image on a 9:16 canvas \(1080×1920, 30 fps\)\. I've put 1 caption on the text track\. The uploaded audio plays as background music at 35% volume\..*Click Export/),
      toolArgs: {
        operation: 'create_timeline',
        duration_ms: 5000,
        aspect_ratio: '9:16',
        motion: 'zoom-in',
        motion_intensity: 'subtle',
        intensity: 0.08,
        captions: ['Hi'],
        music: 'song.mp3',
        media: ['a.jpg'],
      },
    });
  });

  it('says so when music is asked for and no audio was uploaded, and adds none', () => {
    const turn = planTurn({ instruction: 'turn these photos into a 30-second video with transitions and background music', pictures: [PHOTO, PHOTO] });
    expect(turn.kind).toBe('edit');
    if (turn.kind !== 'edit') return;
    expect(turn.text).toMatch(/No audio file was uploaded, so I haven't added background music/);
    expect(turn.draft.t.map((track) => track.tt)).toEqual([0]);
    expect(turn.draft.d).toBe(30_000);
    expect(turn.toolArgs).toMatchObject({ music: null, transition: 'fade' });
  });
});
