import { z } from 'zod';

/**
 * A draft as the upstream protocol defines it, and no more: tracks `t`, each
 * with its type `tt` and its segments `sg`; the draft's duration `d` (ms) and
 * metadata `m`. What a segment holds is the backend's business (the cloud's
 * drafts carry ids, versions, effects…), so everything else is kept as it came.
 * The embedded engine's richer model is draft.ts.
 */
export const backendDraftSchema = z.looseObject({
  t: z.array(z.looseObject({ tt: z.number(), sg: z.array(z.unknown()) })),
  d: z.number().optional(),
  m: z.record(z.string(), z.unknown()).optional(),
});

export type BackendDraft = z.infer<typeof backendDraftSchema>;

/** Upstream says a draft is exportable when some track has a non-empty `sg`. */
export function isExportable(draft: BackendDraft): boolean {
  return draft.t.some((track) => track.sg.length > 0);
}
