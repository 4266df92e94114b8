/**
 * The version of what a job produces from its inputs and options, part of
 * every render cache key: bump it whenever a change makes the same job come
 * out differently (the engine's renderer or agent, the instruction composer,
 * the store stage's probe or poster), so no job is served a video made by
 * the older code.
 */
export const RENDER_VERSION = 1;
