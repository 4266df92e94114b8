import { Redis as StandaloneRedis, SentinelConnector, type RedisOptions } from 'ioredis';

/**
 * Why this exists: during a Sentinel failover the old master goes on
 * accepting writes after its replica was promoted (until the sentinels
 * demote it, seconds later; when it died, until it is seen down), and every
 * write it takes then is lost when it rejoins as a replica. ioredis moves a
 * connection on `+switch-master`, the end of the failover, so a job's writes
 * in between (its status, its BullMQ completion) were acknowledged and then
 * lost. Here every connection of a Sentinel set leaves the master as soon as
 * a sentinel announces the failover's start, and reconnects only once the
 * sentinels name the new master (or the failover is over without a switch):
 * commands wait in ioredis's queue meanwhile, and those the old master had
 * not answered are sent again to the new one. The watch also moves them on
 * `+switch-master` (in place of ioredis's failoverDetector, which keeps
 * three sentinel connections per connection and, for a connection whose
 * master died, later closes it for good).
 */

/** A sentinel announces a failover of a master it monitors. */
const STARTS = ['+try-failover', '+selected-slave', '+failover-state-send-slaveof-noone'];
/** The switch is done: `<name> <old ip> <old port> <new ip> <new port>`. */
const SWITCHED = '+switch-master';
/** How often the sentinels are asked, during a failover, whether it is over. */
const POLL_MS = 100;
/** A failover that has not switched or ended by then releases the connections anyway (a sentinel that lost its way must not stop the service). */
const HOLD_MAX_MS = 15_000;
/** A watch without connections closes its sentinel subscriptions after this long. */
const IDLE_MS = 2_000;

type SentinelOptions = Pick<RedisOptions, 'sentinels' | 'name' | 'sentinelUsername' | 'sentinelPassword' | 'sentinelTLS' | 'enableTLSForSentinelMode'>;
type Address = { host: string; port: number };

const addressKey = (host: string, port: number | string) => `${host}:${port}`;

/** The master named in a sentinel event: `master <name> <ip> <port> …`, or `<type> <id> <ip> <port> @ <name> <ip> <port>`. */
function masterIn(message: string): { name: string; address: string } | undefined {
  const words = message.split(' ');
  const at = words[0] === 'master' ? 1 : words.indexOf('@') + 1;
  const [name, host, port] = [words[at], words[at + 1], words[at + 2]];
  return at > 0 && name && host && port ? { name, address: addressKey(host, port) } : undefined;
}

interface Hold {
  /** the master being replaced, host:port */
  from: string;
  released: Promise<void>;
  release(): void;
}

/** One process's view of a Sentinel set's failovers, shared by every connection to its master. */
class SwitchoverWatch {
  /** connections established since the last failover started */
  private readonly connected = new Set<{ leave(): void }>();
  private subscribers: StandaloneRedis[] = [];
  private idle?: NodeJS.Timeout;
  private hold?: Hold;
  /** the last switch heard of, for a sentinel that still names the old master */
  private moved?: { from: string; to: Address };
  /** counts failover starts: a connection made across one is not kept */
  epoch = 0;

  constructor(private readonly options: SentinelOptions) {}

  /** Resolves when no failover is in progress. */
  async settled(): Promise<void> {
    while (this.hold) await this.hold.released;
  }

  connectedOne(connector: { leave(): void }): void {
    this.connected.add(connector);
    clearTimeout(this.idle);
    if (this.subscribers.length === 0) this.subscribe();
  }

  disconnectedOne(connector: { leave(): void }): void {
    this.connected.delete(connector);
    this.closeWhenIdle();
  }

  private closeWhenIdle(): void {
    if (this.connected.size > 0 || this.hold) return;
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.unsubscribe(), IDLE_MS).unref();
  }

  /** The new master's address in place of the one a failover replaced (for the connector's natMap). */
  redirect(key: string): Address | null {
    return this.moved?.from === key ? this.moved.to : null;
  }

  private sentinelClient(address: Partial<Address>, options: RedisOptions = {}): StandaloneRedis {
    const client = new StandaloneRedis({
      host: address.host,
      port: address.port ?? 26379,
      username: this.options.sentinelUsername,
      password: this.options.sentinelPassword,
      tls: this.options.enableTLSForSentinelMode ? this.options.sentinelTLS : undefined,
      enableReadyCheck: false,
      ...options,
    });
    client.on('error', () => {});
    return client;
  }

  private subscribe(): void {
    this.subscribers = (this.options.sentinels ?? []).map((address) => {
      const client = this.sentinelClient(address, { maxRetriesPerRequest: null });
      client.on('message', (channel: string, message: string) => this.heard(channel, message));
      void client.subscribe(...STARTS, SWITCHED).catch(() => {});
      return client;
    });
  }

  private unsubscribe(): void {
    for (const client of this.subscribers) client.disconnect();
    this.subscribers = [];
  }

  private heard(channel: string, message: string): void {
    if (channel === SWITCHED) {
      const [name, oldHost, oldPort, host, port] = message.split(' ');
      if (name !== this.options.name || !host || !port) return;
      this.moved = { from: addressKey(oldHost as string, oldPort as string), to: { host, port: Number(port) } };
      // a switch whose start was not heard (a sentinel that was unreachable then): connections move now
      if (this.hold) this.hold.release();
      else this.leaveAll();
      return;
    }
    const master = masterIn(message);
    if (master && master.name === this.options.name && !this.hold) this.start(master.address);
  }

  private start(from: string): void {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const hold: Hold = { from, released, release };
    this.hold = hold;
    this.moved = undefined;
    const timer = setTimeout(release, HOLD_MAX_MS);
    void released.then(() => {
      clearTimeout(timer);
      if (this.hold === hold) this.hold = undefined;
      this.closeWhenIdle();
    });
    this.leaveAll();
    void this.pollUntilOver(hold);
  }

  /** Ends every connection to the master; a connection being made now is made again. */
  private leaveAll(): void {
    this.epoch++;
    const leaving = [...this.connected];
    this.connected.clear();
    for (const connector of leaving) connector.leave();
  }

  /** Asks the sentinels until one names another master, or none is failing over any more (an aborted failover). */
  private async pollUntilOver(hold: Hold): Promise<void> {
    const clients = (this.options.sentinels ?? []).map((address) => this.sentinelClient(address, { maxRetriesPerRequest: 0, commandTimeout: 1_000, retryStrategy: () => POLL_MS }));
    let over = false;
    void hold.released.then(() => (over = true));
    try {
      while (!over) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const answers = await Promise.all(
          clients.map(async (client) => {
            const [address, master] = await Promise.all([
              client.call('SENTINEL', 'get-master-addr-by-name', this.options.name as string) as Promise<[string, string] | null>,
              client.call('SENTINEL', 'master', this.options.name as string) as Promise<string[]>,
            ]);
            const flags = master[master.indexOf('flags') + 1] ?? '';
            return { address: address ? addressKey(address[0], address[1]) : undefined, failingOver: flags.includes('failover_in_progress') };
          }).map((answer) => answer.catch(() => undefined)),
        );
        const moved = answers.find((answer) => answer?.address !== undefined && answer.address !== hold.from);
        if (moved?.address) {
          const [host, port] = moved.address.split(':') as [string, string];
          this.moved = { from: hold.from, to: { host, port: Number(port) } };
          hold.release();
        } else if (answers.some((answer) => answer !== undefined) && answers.every((answer) => answer === undefined || !answer.failingOver)) hold.release();
      }
    } finally {
      for (const client of clients) client.disconnect();
    }
  }
}

const watches = new Map<string, SwitchoverWatch>();

/** The watch of a Sentinel set's master, one per process. */
export function switchoverWatch(options: SentinelOptions): SwitchoverWatch {
  const key = JSON.stringify([options.name, options.sentinels?.map((s) => addressKey(s.host ?? '', s.port ?? 26379))]);
  let watch = watches.get(key);
  if (!watch) watches.set(key, (watch = new SwitchoverWatch(options)));
  return watch;
}

/**
 * ioredis's Sentinel connector that waits out a failover in progress before
 * it connects, and drops a connection made while one started (it may lead
 * to the old master). BullMQ's duplicated connections get it too: it
 * travels in the options.
 */
export class SwitchoverAwareConnector extends SentinelConnector {
  private readonly watch: SwitchoverWatch;
  /** closed by its client (not by a failover) while it waited */
  private closed = false;

  // ioredis passes the connection's options untyped
  constructor(options: unknown) {
    super(options as SentinelOptions);
    this.watch = switchoverWatch(options as SentinelOptions);
  }

  override async connect(...args: Parameters<SentinelConnector['connect']>): ReturnType<SentinelConnector['connect']> {
    this.closed = false;
    for (;;) {
      await this.watch.settled();
      if (this.closed) throw new Error('Connection is closed.');
      const epoch = this.watch.epoch;
      const stream = await super.connect(...args);
      if (this.watch.epoch === epoch) {
        this.watch.connectedOne(this);
        // a master that dies closes the stream without a disconnect(): this one is no longer the watch's to end
        stream.once('close', () => this.watch.disconnectedOne(this));
        return stream;
      }
      stream.destroy();
    }
  }

  /** A failover started: ends the stream; the client reconnects by itself, and connect() waits. */
  leave(): void {
    super.disconnect();
  }

  override disconnect(): void {
    this.closed = true;
    this.watch.disconnectedOne(this);
    super.disconnect();
  }
}
