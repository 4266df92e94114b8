import { once } from 'node:events';
import type { Config } from '../shared/infra/config.ts';
import type { Logger } from '../shared/infra/logger.ts';
import { forkModule, type ChildProcess } from '../shared/infra/process-launcher.ts';
import type { PartReady, PartStart } from './part-messages.ts';
import type { PartName } from './parts.ts';

export interface PartSpec {
  name: PartName;
  config: Config;
  /** the config key of the port it listens on: pinned to the port of its first start, so a restarted part answers at the same URL */
  port?: 'PORT' | 'ENGINE_PORT';
}

export interface SupervisorOptions {
  /** how long a part may take to close after SIGTERM before it is killed */
  stopTimeoutMs: number;
  /** wait before restarting a part that died; doubled for each further death in a row, up to maxRestartDelayMs */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** a part that ran this long before it died counts as a first death again */
  stableAfterMs?: number;
}

const describeExit = (code: number | null, signal: NodeJS.Signals | null) => (signal ? `killed by ${signal}` : `exit code ${code}`);

/** One part in its own process, restarted whenever it dies until the supervisor stops it. */
class SupervisedPart {
  private child?: ChildProcess;
  private restartTimer?: NodeJS.Timeout;
  private restarts = 0;
  private deathsInARow = 0;
  private stopping = false;
  private config: Config;

  constructor(
    private readonly spec: PartSpec,
    private readonly logger: Logger,
    private readonly options: Required<SupervisorOptions>,
  ) {
    this.config = spec.config;
  }

  /** Resolves with its URL once it serves; rejects when it exits before (its own log says why). */
  start(): Promise<string | undefined> {
    return new Promise((resolve, reject) => this.fork({ resolve, reject }));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      this.logger.warn({ part: this.spec.name, pid: child.pid }, `${this.spec.name} did not close within ${this.options.stopTimeoutMs} ms; killing it`);
      child.kill('SIGKILL');
    }, this.options.stopTimeoutMs);
    await exited;
    clearTimeout(killer);
  }

  private fork(first?: { resolve: (url: string | undefined) => void; reject: (error: Error) => void }): void {
    const { name } = this.spec;
    // its own process group: a Ctrl-C in the terminal reaches the supervisor alone, which stops the parts in order
    const child = forkModule(import.meta.url, 'part-process', { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', detached: true });
    this.child = child;
    const startedAt = Date.now();
    let ready = false;
    let gone = false;
    this.logger.info({ part: name, pid: child.pid, restarts: this.restarts }, `${name} process started`);
    child.on('message', (message: PartReady) => {
      if (message.type !== 'ready' || ready) return;
      ready = true;
      if (message.url && this.spec.port) this.config = { ...this.config, [this.spec.port]: Number(new URL(message.url).port) };
      this.logger.info({ part: name, pid: child.pid, url: message.url, restarts: this.restarts }, `${name} ready`);
      first?.resolve(message.url);
    });
    const died = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
      if (gone) return;
      gone = true;
      if (this.child === child) this.child = undefined;
      if (first && !ready) {
        first.reject(new Error(`the ${name} process stopped before it was ready (${error?.message ?? describeExit(code, signal)}); its log says why`));
        return;
      }
      if (this.stopping) return;
      if (Date.now() - startedAt >= this.options.stableAfterMs) this.deathsInARow = 0;
      const restartInMs = Math.min(this.options.maxRestartDelayMs, this.options.restartDelayMs * 2 ** this.deathsInARow);
      this.deathsInARow++;
      this.restarts++;
      this.logger.error(
        { part: name, pid: child.pid, code, signal, err: error, restarts: this.restarts, restartInMs },
        `${name} exited unexpectedly (${error?.message ?? describeExit(code, signal)}); restart ${this.restarts} in ${restartInMs} ms`,
      );
      this.restartTimer = setTimeout(() => this.restart(), restartInMs);
    };
    child.once('exit', (code, signal) => died(code, signal));
    // a process that could not be started at all reports only 'error'; a failed send to a dying one is followed by its 'exit'
    child.on('error', (error) => {
      if (child.pid === undefined) died(null, null, error);
    });
    child.send({ type: 'start', part: name, config: this.config } satisfies PartStart);
  }

  private restart(): void {
    try {
      this.fork();
    } catch (error) {
      // the supervisor outlives a failed fork (no memory, files being replaced): it tries again later
      this.logger.error({ part: this.spec.name, err: error }, `${this.spec.name} could not be restarted; trying again in ${this.options.maxRestartDelayMs} ms`);
      this.restartTimer = setTimeout(() => this.restart(), this.options.maxRestartDelayMs);
    }
  }
}

/**
 * Runs each part of the all-in-one service in its own child process, so an
 * exception in one (the worker, the engine) ends only that process: the
 * supervisor logs why it died and starts it again, with backoff, while the
 * others keep serving.
 */
export class Supervisor {
  private readonly parts: SupervisedPart[] = [];
  private readonly options: Required<SupervisorOptions>;

  constructor(
    private readonly logger: Logger,
    options: SupervisorOptions,
  ) {
    this.options = { restartDelayMs: 500, maxRestartDelayMs: 30_000, stableAfterMs: 60_000, ...options };
  }

  /** Starts a part and keeps it running; resolves with its URL once it serves. */
  start(spec: PartSpec): Promise<string | undefined> {
    const part = new SupervisedPart(spec, this.logger, this.options);
    this.parts.push(part);
    return part.start();
  }

  /** Stops the parts, the last started first (the API before the worker, the worker before the engine it renders on). */
  async stop(): Promise<void> {
    for (const part of [...this.parts].reverse()) await part.stop();
  }
}
