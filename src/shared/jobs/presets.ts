/** What a job asks for; each preset is one of the upstream skills. */
export const PRESETS = ['motion', 'slideshow', 'diffusion', 'pixverse'] as const;
export type Preset = (typeof PRESETS)[number];

/** The `X-Skill-Source` attribution header each preset's requests carry. */
export const SKILL_SOURCE: Record<Preset, string> = {
  motion: 'image-to-video-ai-movement',
  slideshow: 'image-to-video-online-converter',
  diffusion: 'diffusion-video',
  pixverse: 'pixverse-ai-image-to-video',
};
