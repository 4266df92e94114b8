import { SKILL_SOURCE, type Preset } from '../jobs/presets.ts';

export type SkillPlatform = 'clawhub' | 'cursor' | 'unknown';

/** Who a request is made for; the backend fails exports that lack it (402). */
export interface SkillAttribution {
  source: string;
  version: string;
  platform: SkillPlatform;
}

export function skillForPreset(preset: Preset, version: string, platform: SkillPlatform): SkillAttribution {
  return { source: SKILL_SOURCE[preset], version, platform };
}

export function attributionHeaders(skill: SkillAttribution): Record<string, string> {
  return {
    'x-skill-source': skill.source,
    'x-skill-version': skill.version,
    'x-skill-platform': skill.platform,
  };
}
