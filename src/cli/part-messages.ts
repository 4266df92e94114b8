import type { Config } from '../shared/infra/config.ts';
import type { PartName } from './parts.ts';

/** What the all-in-one supervisor (supervisor.ts) and one of its parts (part-process.ts) say over the IPC channel. */
export interface PartStart {
  type: 'start';
  part: PartName;
  config: Config;
}

/** The part serves (at `url`, when it has one). */
export interface PartReady {
  type: 'ready';
  url?: string;
}
