import { createHash } from 'node:crypto';
import type { JobOptions } from '../../shared/jobs/job-options.ts';
import type { InputRole } from '../../shared/jobs/job-record.ts';
import type { Preset } from '../../shared/jobs/presets.ts';
import { RENDER_VERSION } from '../../shared/jobs/render-version.ts';

/** One input as the key knows it: what it is for and the digest of its bytes (never its name or URL). */
export interface InputDigest {
  role: InputRole;
  sha256: string;
}

/** Everything a job's output depends on. */
export interface CacheKeyMaterial {
  tenant: string;
  /** which backend renders (backendIdentity): two backends never share outputs */
  backend: string;
  preset: Preset;
  /** the instruction the backend is sent (the prompt and the options, in the composer's fixed shapes) */
  instruction: string;
  options: JobOptions;
  /** in the job's order: the timeline's order */
  inputs: readonly InputDigest[];
}

/** JSON with every object's keys sorted, so the order a client wrote them in does not count. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The options that shape the output: not `cache` (whether to use the cache),
 * not the music's URL (its bytes are an input). Options the job leaves out
 * stay out: the prompt is free text the backend's agent reads, and it may set
 * what the options do not ("zoom in"), so a left-out option is not the same
 * work as its default spelled out.
 */
export function renderedOptions(options: JobOptions): JobOptions {
  const { cache: _cache, audio, ...rest } = options;
  if (!audio) return rest;
  const { url: _url, ...music } = audio;
  return { ...rest, audio: music };
}

/** The backend as the key names it: its URLs, in any order (one backend behind several addresses stays one). */
export function backendIdentity(backendUrl: string): string {
  return backendUrl
    .split(',')
    .map((url) => url.trim().replace(/\/+$/, ''))
    .filter(Boolean)
    .sort()
    .join(',');
}

/** The render cache key of a job's work: a SHA-256 over the material and RENDER_VERSION. */
export function renderCacheKey(material: CacheKeyMaterial): string {
  const { tenant, backend, preset, instruction, options, inputs } = material;
  const canonical = canonicalJson({ version: RENDER_VERSION, tenant, backend, preset, instruction, options: renderedOptions(options), inputs });
  return createHash('sha256').update(canonical).digest('hex');
}
