import { createHash } from 'node:crypto';

/**
 * Every Redis key of the engine's store, under ENGINE_REDIS_PREFIX. BullMQ's
 * render queue lives under `<prefix>:renders:` (its wait list is
 * `<prefix>:renders:wait`), so no key here starts with that.
 */
export class EngineKeys {
  constructor(readonly prefix: string) {}

  /** a token and the account it stands for (one record: each account has one token); named by the token's SHA-256, so Redis holds no bearer token */
  token = (token: string) => `${this.prefix}:token:${createHash('sha256').update(token).digest('hex')}`;
  /** bumped by "expire every token": a token works only in the generation it was issued in */
  get tokenGeneration() {
    return `${this.prefix}:tokens:generation`;
  }
  /** when a client id was last given a token (one per client per TTL) */
  client = (clientId: string) => `${this.prefix}:client:${clientId}`;
  /** tokens issued; sessions, renders and leftovers freed */
  get counters() {
    return `${this.prefix}:counters`;
  }
  session = (sessionId: string) => `${this.prefix}:session:${sessionId}`;
  /** session ids scored by last use (ms): expiry and least-recently-used order */
  get sessionsByUse() {
    return `${this.prefix}:sessions-by-use`;
  }
  render = (renderId: string) => `${this.prefix}:render:${renderId}`;
  get rendersByUse() {
    return `${this.prefix}:renders-by-use`;
  }
  /** output file name → render id: what is not in it under renders/ was left behind */
  get outputs() {
    return `${this.prefix}:outputs`;
  }
  /** bytes and files held on disk by sessions and completed renders */
  get disk() {
    return `${this.prefix}:disk`;
  }
  /** the armed fault rules (JSON), shared by every engine of the backend */
  get faults() {
    return `${this.prefix}:faults`;
  }
  /** render ids whose render was canceled: the engine running it stops its ffmpeg */
  get cancelChannel() {
    return `${this.prefix}:render-cancel`;
  }
}
