import { randomBytes, randomInt, randomUUID } from 'node:crypto';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

export const newToken = () => `nmv_usr_${hex(24)}`;
export const newAnonymousUserId = () => `anon_${hex(8)}`;
export const newTaskId = () => `task_${hex(12)}`;
/** unguessable, since files and renders are served without a token, like a CDN */
export const newStorageName = (ext: string) => `${randomUUID()}.${ext}`;

/** starts anywhere, so engine processes of one backend creating sessions in the same millisecond rarely draw the same id (the store refuses a taken one) */
let sequence = randomInt(0x400000);
/** Snowflake-like numeric strings (ms clock << 22 | sequence), like upstream's "5529798706024415232". */
export function newSessionId(now = Date.now()): string {
  sequence = (sequence + 1) & 0x3fffff;
  return ((BigInt(now) << 22n) | BigInt(sequence)).toString();
}
