import { TRACK_TYPE, type Draft, type Track } from '../../shared/jobs/draft.ts';
import { INTENSITY_AMOUNT, outputSize } from '../../shared/jobs/job-options.ts';
import type { Settings } from './settings.ts';
import { segmentSpans } from './timeline.ts';

/** An uploaded file the draft shows or plays: `src` is what the renderer will resolve. */
export interface DraftMedia {
  src: string;
  filename: string;
}

export interface DraftPicture extends DraftMedia {
  kind: 'image' | 'video';
}

const ms = (seconds: number) => Math.round(seconds * 1000);

function videoTrack(settings: Settings, pictures: readonly DraftPicture[], totalMs: number): Track {
  const transitionMs = settings.transition === 'none' ? 0 : ms(settings.transition_s);
  const { spans, overlapMs } = segmentSpans(totalMs, pictures.length, transitionMs);
  const sg = pictures.map((picture, index) => ({
    ...spans[index]!,
    src: picture.src,
    m: {
      name: picture.filename,
      motion: settings.motion,
      intensity: INTENSITY_AMOUNT[settings.motion_intensity],
      fit: settings.fit,
      background: settings.background,
      ...(index > 0 && overlapMs > 0 && { transition: { type: settings.transition, d: overlapMs } }),
      ...(picture.kind === 'video' && { in: 0 }),
    },
  }));
  return { tt: TRACK_TYPE.video, sg };
}

/** The music spans the whole video, looped when shorter. */
function audioTrack(audio: NonNullable<Settings['audio']>, file: DraftMedia, totalMs: number): Track {
  const m = { name: file.filename, volume: audio.volume, fade_out: Math.min(ms(audio.fade_out_s), totalMs), loop: true };
  return { tt: TRACK_TYPE.audio, sg: [{ s: 0, d: totalMs, src: file.src, m }] };
}

/** Captions clamped to the video: one that starts after the end is left out. */
function textTrack(settings: Settings, totalMs: number): Track {
  const sg = settings.text.flatMap(({ text, start_s, end_s, ...style }) => {
    const s = ms(start_s);
    if (s >= totalMs || text === '') return [];
    return [{ s, d: Math.max(1, Math.min(ms(end_s), totalMs) - s), m: { text, ...style } }];
  });
  return { tt: TRACK_TYPE.text, sg };
}

/** The logo spans the whole video. */
function logoTrack(logo: NonNullable<Settings['logo']>, file: DraftMedia, totalMs: number): Track {
  const { file: _name, ...placement } = logo;
  return { tt: TRACK_TYPE.logo, sg: [{ s: 0, d: totalMs, src: file.src, m: { name: file.filename, ...placement } }] };
}

function badgeTrack(badge: NonNullable<Settings['badge']>, totalMs: number): Track {
  return { tt: TRACK_TYPE.badge, sg: [{ s: 0, d: totalMs, m: { ...badge } }] };
}

function title(pictures: readonly DraftPicture[]): string {
  if (pictures.length === 1) return pictures[0]!.filename;
  return `${pictures.length} ${pictures.every((picture) => picture.kind === 'image') ? 'images' : 'clips'}`;
}

/**
 * A fully explicit draft: one video segment per picture, in order; the music
 * track when music is asked for and an audio file was uploaded; the text
 * track when a caption falls within the video; the logo's track when a logo
 * is asked for and its file was uploaded; the badge's.
 */
export function buildDraft(settings: Settings, pictures: readonly DraftPicture[], music?: DraftMedia, logo?: DraftMedia): Draft {
  const totalMs = ms(settings.duration_s);
  const tracks = [videoTrack(settings, pictures, totalMs)];
  if (settings.audio && music) tracks.push(audioTrack(settings.audio, music, totalMs));
  const text = textTrack(settings, totalMs);
  if (text.sg.length > 0) tracks.push(text);
  if (settings.logo && logo) tracks.push(logoTrack(settings.logo, logo, totalMs));
  if (settings.badge) tracks.push(badgeTrack(settings.badge, totalMs));
  return {
    t: tracks,
    d: totalMs,
    m: {
      title: title(pictures),
      ...outputSize(settings.aspect_ratio, settings.resolution),
      fps: settings.fps,
      quality: settings.quality,
      ...(settings.encoding && { encoding: { ...settings.encoding } }),
    },
  };
}
