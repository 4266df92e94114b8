import { z } from 'zod';

/**
 * The draft (timeline) model shared by the worker and the embedded engine.
 * Top-level short keys follow the upstream protocol (`t` tracks, `tt` track
 * type, `sg` segments, `d` duration in ms, `m` metadata); what a segment holds
 * beyond `d` and `m` is ours, documented in docs/draft.md.
 */
export const TRACK_TYPE = { video: 0, audio: 1, text: 7 } as const;

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

/** A CSS hex colour: #rgb or #rrggbb. */
export const hexColor = z.string().regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'a CSS hex colour such as #fff or #1a2b3c');

const ms = z.number().int().min(0);

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
    })
    .loose(),
});

export const trackSchema = z.discriminatedUnion('tt', [
  z.object({ tt: z.literal(TRACK_TYPE.video), sg: z.array(videoSegmentSchema), m: z.record(z.string(), z.unknown()).optional() }),
  z.object({ tt: z.literal(TRACK_TYPE.audio), sg: z.array(audioSegmentSchema), m: z.record(z.string(), z.unknown()).optional() }),
  z.object({ tt: z.literal(TRACK_TYPE.text), sg: z.array(textSegmentSchema), m: z.record(z.string(), z.unknown()).optional() }),
]);

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
    })
    .loose(),
});

export type Draft = z.infer<typeof draftSchema>;
export type Track = z.infer<typeof trackSchema>;
export type VideoSegment = z.infer<typeof videoSegmentSchema>;
export type AudioSegment = z.infer<typeof audioSegmentSchema>;
export type TextSegment = z.infer<typeof textSegmentSchema>;

/** Upstream says a draft is exportable when some track has a non-empty `sg`. */
export function isExportable(draft: Draft): boolean {
  return draft.t.some((track) => track.sg.length > 0);
}

const seconds = (msValue: number) => `${Math.round(msValue / 100) / 10}`;
const span = (s: number, d: number) => `${seconds(s)}-${seconds(s + d)}s`;

/**
 * The seeds' one-line summary, e.g.
 * `Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)`.
 */
export function timelineSummary(draft: Draft): string {
  const parts = draft.t.map((track, index) => {
    const n = `${index + 1}.`;
    const first = track.sg[0];
    const start = first ? first.s : 0;
    const end = track.sg.reduce((max, sg) => Math.max(max, sg.s + sg.d), 0);
    switch (track.tt) {
      case TRACK_TYPE.video: {
        const names = track.sg.map((sg) => sg.m.name ?? 'image');
        const label = names.length === 1 ? names[0] : `${names.length} clips`;
        return `${n} Video: ${label} (${span(start, end - start)})`;
      }
      case TRACK_TYPE.audio: {
        const sg = track.sg[0];
        const volume = sg ? Math.round(sg.m.volume * 100) : 0;
        return `${n} BGM: ${sg?.m.name ?? 'audio'} (${span(start, end - start)}, ${volume}%)`;
      }
      case TRACK_TYPE.text: {
        const texts = track.sg.map((sg) => `"${sg.m.text}" (${span(sg.s, sg.d)})`);
        return `${n} Title: ${texts.join(', ')}`;
      }
    }
  });
  const count = draft.t.length;
  return `Timeline (${count} track${count === 1 ? '' : 's'}): ${parts.join(' ')}`;
}
