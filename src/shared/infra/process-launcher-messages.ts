/** What a process and its launcher (process-launcher.ts) say to each other over the IPC channel. */
export type LaunchRequest =
  | { type: 'run'; id: number; command: string; args: readonly string[]; timeoutMs: number; streamStdout: boolean }
  | { type: 'kill'; id: number };

export type LaunchReply =
  | { type: 'stdout'; id: number; chunk: string }
  | { type: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }
  /** the program could not be started (missing, not executable) */
  | { type: 'failed'; id: number; message: string };
