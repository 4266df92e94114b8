import { z } from 'zod';
import type { BackendDraft } from './backend-draft.ts';

/**
 * The draft (timeline) model shared by the worker and the embedded engine.
 * Top-level short keys follow the upstream protocol (`t` tracks, `tt` track
 * type, `sg` segments, `d` duration in ms, `m` metadata); what a segment holds
 * beyond `d` and `m` is ours, documented in docs/draft.md.
 */
export const TRACK_TYPE = { video: 0, audio: 1, logo: 2, text: 7, badge: 8 } as const;

export const MOTIONS = ['ken-burns', 'zoom-in', 'zoom-out', 'pan-left', 'pan-right', 'pan-up', 'pan-down', 'static'] as const;
export type Motion = (typeof MOTIONS)[number];
export const FITS = ['cover', 'contain-blur', 'contain'] as const;
export type Fit = (typeof FITS)[number];
export const TRANSITIONS = [
  'none', 'fade', 'dissolve', 'slideleft', 'slideright', 'slideup', 'slidedown',
  'wipeleft', 'wiperight', 'circleopen', 'smoothleft', 'smoothright',
] as const;
export type Transition = (typeof TRANSITIONS)[number];
export const TEXT_POSITIONS = ['top', 'center', 'bottom'] as const;
export const TEXT_SIZES = ['small', 'medium', 'large'] as const;
export const QUALITIES = ['standard', 'high'] as const;
/** The caption fonts the engine bundles (Debian's fonts-dejavu-core and fonts-noto-cjk). */
export const FONT_FAMILIES = ['dejavu-sans', 'dejavu-serif', 'dejavu-mono', 'noto-sans-cjk', 'noto-serif-cjk'] as const;
export type FontFamily = (typeof FONT_FAMILIES)[number];
export const FONT_WEIGHTS = ['regular', 'bold'] as const;
export type FontWeight = (typeof FONT_WEIGHTS)[number];
/** What a caption too wide for the frame does: break into lines, or get smaller (down to 8 px, then break). */
export const TEXT_OVERFLOWS = ['wrap', 'shrink'] as const;

/** Where a logo or a badge sits. */
export const CORNERS = ['top-left', 'top-right', 'bottom-left', 'bottom-right'] as const;
export type Corner = (typeof CORNERS)[number];
export const BADGE_SHAPES = ['rectangle', 'rounded', 'pill', 'circle'] as const;
export type BadgeShape = (typeof BADGE_SHAPES)[number];
export const MAX_BADGE_CHARS = 40;

/** A CSS hex colour: #rgb or #rrggbb. */
export const hexColor = z.string().regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'a CSS hex colour such as #fff or #1a2b3c');

const ms = z.number().int().min(0);

/** A point of a picture as fractions of its width and height from its top-left corner: 0.5, 0.5 is its centre. */
export const focusPointSchema = z
  .object({
    x: z.number().min(0).max(1).describe('0 the left edge, 1 the right edge'),
    y: z.number().min(0).max(1).describe('0 the top edge, 1 the bottom edge'),
  })
  .strict();
/** Where zooms and pans aim: a point of the picture, or `auto`, the product found on a plain background. */
export const focusSchema = z.union([z.literal('auto'), focusPointSchema]);
export type FocusPoint = z.infer<typeof focusPointSchema>;
export type Focus = z.infer<typeof focusSchema>;

export const videoSegmentSchema = z.object({
  /** start on the timeline, ms */
  s: ms,
  d: ms.min(1),
  /** the backend's reference to the uploaded file (its cdn_url) */
  src: z.string().min(1),
  m: z
    .object({
      name: z.string().optional(),
      motion: z.enum(MOTIONS).default('ken-burns'),
      /** how far the motion travels: 0.1 means a 10% zoom or pan */
      intensity: z.number().min(0).max(1).default(0.15),
      /** how the picture fills the frame */
      fit: z.enum(FITS).default('cover'),
      /** the colour around a `contain` picture */
      background: hexColor.default('#000000'),
      /** where the motion aims and a `cover` crop keeps in frame; unset: the centre */
      focus: focusSchema.optional(),
      /** the transition from the previous segment, which this one overlaps by `d` ms */
      transition: z.object({ type: z.enum(TRANSITIONS), d: ms }).optional(),
      /** for video sources: where in the source this segment starts, ms */
      in: ms.optional(),
    })
    .loose(),
});

export const audioSegmentSchema = z.object({
  s: ms,
  d: ms.min(1),
  src: z.string().min(1),
  m: z
    .object({
      name: z.string().optional(),
      volume: z.number().min(0).max(1).default(0.35),
      /** faded out over the segment's last `fade_out` ms */
      fade_out: ms.default(1000),
      /** repeated when shorter than the segment */
      loop: z.boolean().default(true),
    })
    .loose(),
});

export const textSegmentSchema = z.object({
  s: ms,
  d: ms.min(1),
  m: z
    .object({
      text: z.string().max(2000),
      position: z.enum(TEXT_POSITIONS).default('bottom'),
      size: z.enum(TEXT_SIZES).default('medium'),
      color: hexColor.default('#ffffff'),
      // the styles below are left out unless asked for; the renderer's defaults are in docs/draft.md
      /** unset: DejaVu Sans, or Noto Sans CJK when DejaVu lacks glyphs of the text */
      font: z.enum(FONT_FAMILIES).optional(),
      weight: z.enum(FONT_WEIGHTS).optional(),
      /** the box behind the text; opacity 0 draws none */
      box_color: hexColor.optional(),
      box_opacity: z.number().min(0).max(1).optional(),
      overflow: z.enum(TEXT_OVERFLOWS).optional(),
    })
    .loose(),
});

/** A picture over the video (a brand's logo), the whole segment long. */
export const logoSegmentSchema = z.object({
  s: ms,
  d: ms.min(1),
  src: z.string().min(1),
  m: z
    .object({
      name: z.string().optional(),
      corner: z.enum(CORNERS).default('top-right'),
      /** its width, a fraction of the frame's */
      size: z.number().min(0.01).max(1).default(0.2),
      opacity: z.number().min(0).max(1).default(1),
      /** from the frame's edges, a fraction of the frame's width */
      margin: z.number().min(0).max(0.5).default(0.04),
    })
    .loose(),
});

/** A short text on a coloured shape (a price, a discount) in a corner. */
export const badgeSegmentSchema = z.object({
  s: ms,
  d: ms.min(1),
  m: z
    .object({
      text: z.string().min(1).max(MAX_BADGE_CHARS),
      corner: z.enum(CORNERS).default('top-left'),
      color: hexColor.default('#ffffff'),
      background: hexColor.default('#e11d48'),
      shape: z.enum(BADGE_SHAPES).default('rounded'),
      size: z.enum(TEXT_SIZES).default('medium'),
    })
    .loose(),
});

export const trackSchema = z.discriminatedUnion('tt', [
  z.object({ tt: z.literal(TRACK_TYPE.video), sg: z.array(videoSegmentSchema), m: z.record(z.string(), z.unknown()).optional() }),
  z.object({ tt: z.literal(TRACK_TYPE.audio), sg: z.array(audioSegmentSchema), m: z.record(z.string(), z.unknown()).optional() }),
  z.object({ tt: z.literal(TRACK_TYPE.text), sg: z.array(textSegmentSchema), m: z.record(z.string(), z.unknown()).optional() }),
  z.object({ tt: z.literal(TRACK_TYPE.logo), sg: z.array(logoSegmentSchema), m: z.record(z.string(), z.unknown()).optional() }),
  z.object({ tt: z.literal(TRACK_TYPE.badge), sg: z.array(badgeSegmentSchema), m: z.record(z.string(), z.unknown()).optional() }),
]);

/** What a platform preset asks of the encoder: a closed GOP of `gop_s`, a video bitrate cap, the audio's sample rate (always constant frame rate and faststart). */
export const encodingSchema = z.object({
  /** the preset's name, for people reading the draft; the renderer reads only the rules */
  platform: z.string().max(40).optional(),
  /** a keyframe every this many seconds and none in between; no frame refers across it */
  gop_s: z.number().min(0.1).max(10),
  /** the video bitrate cap, kbit/s */
  max_kbps: z.number().int().min(100).max(100000),
  /** the AAC audio's sample rate */
  audio_hz: z.union([z.literal(44100), z.literal(48000)]),
});

export type DraftEncoding = z.infer<typeof encodingSchema>;

export const draftSchema = z.object({
  t: z.array(trackSchema),
  d: ms,
  m: z
    .object({
      title: z.string().optional(),
      width: z.number().int().min(16).max(4096),
      height: z.number().int().min(16).max(4096),
      fps: z.number().int().min(1).max(120).default(30),
      /** x264: `standard` a veryfast-class preset, `high` a slower one for smaller files at the same quality */
      quality: z.enum(QUALITIES).default('standard'),
      /** a platform preset's encoding rules (docs/platforms.md); without it the renderer's own defaults */
      encoding: encodingSchema.optional(),
    })
    .loose(),
});

export type Draft = z.infer<typeof draftSchema>;
export type Track = z.infer<typeof trackSchema>;
export type VideoSegment = z.infer<typeof videoSegmentSchema>;
export type AudioSegment = z.infer<typeof audioSegmentSchema>;
export type TextSegment = z.infer<typeof textSegmentSchema>;
export type LogoSegment = z.infer<typeof logoSegmentSchema>;
export type BadgeSegment = z.infer<typeof badgeSegmentSchema>;

const seconds = (msValue: number) => `${Math.round(msValue / 100) / 10}`;
const span = (s: number, d: number) => `${seconds(s)}-${seconds(s + d)}s`;
const numberOf = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const stringOf = (value: unknown) => (typeof value === 'string' ? value : undefined);
const recordOf = (value: unknown): Record<string, unknown> => (value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {});

/** What the summary reads of a segment; a backend's segment may lack any of it (a missing start follows the previous segment). */
function summarized(segments: readonly unknown[]) {
  let end = 0;
  return segments.map((value) => {
    const segment = recordOf(value);
    const m = recordOf(segment.m);
    const s = numberOf(segment.s) ?? end;
    const d = numberOf(segment.d) ?? 0;
    end = Math.max(end, s + d);
    return { s, d, name: stringOf(m.name), volume: numberOf(m.volume), text: stringOf(m.text) };
  });
}

/**
 * The seeds' one-line summary, e.g.
 * `Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)`.
 * It reads only what the protocol defines (and our segments' names, volumes and texts when a draft has them).
 */
export function timelineSummary(draft: BackendDraft): string {
  const parts = draft.t.map((track, index) => {
    const n = `${index + 1}.`;
    const segments = summarized(track.sg);
    const start = segments[0]?.s ?? 0;
    const length = segments.reduce((max, sg) => Math.max(max, sg.s + sg.d), 0) - start;
    switch (track.tt) {
      case TRACK_TYPE.video: {
        const names = segments.map((sg) => sg.name ?? 'image');
        const label = names.length === 1 ? names[0] : `${names.length} clips`;
        return `${n} Video: ${label} (${span(start, length)})`;
      }
      case TRACK_TYPE.audio: {
        const volume = segments[0]?.volume;
        return `${n} BGM: ${segments[0]?.name ?? 'audio'} (${span(start, length)}${volume === undefined ? '' : `, ${Math.round(volume * 100)}%`})`;
      }
      case TRACK_TYPE.text: {
        const texts = segments.map((sg) => (sg.text === undefined ? `(${span(sg.s, sg.d)})` : `"${sg.text}" (${span(sg.s, sg.d)})`));
        return `${n} Title: ${texts.join(', ')}`;
      }
      case TRACK_TYPE.logo:
        return `${n} Logo: ${segments[0]?.name ?? 'image'} (${span(start, length)})`;
      case TRACK_TYPE.badge:
        return `${n} Badge: ${segments.map((sg) => `"${sg.text ?? ''}"`).join(', ')} (${span(start, length)})`;
      default:
        return `${n} Track ${track.tt}: ${segments.length} segment${segments.length === 1 ? '' : 's'} (${span(start, length)})`;
    }
  });
  const count = draft.t.length;
  return `Timeline (${count} track${count === 1 ? '' : 's'}): ${parts.join(' ')}`;
}
