import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { BackendClient } from '../../src/shared/backend/client.ts';
import { skillForPreset } from '../../src/shared/backend/attribution.ts';
import { createRedis, type Redis } from '../../src/shared/redis.ts';
import { BackendTokens } from '../../src/workers/backend-token.ts';
import { startTestEngine, type TestEngine } from '../engine/protocol-client.ts';

describe('the backend token shared by all workers', () => {
  let engine: TestEngine;
  let redis: Redis;
  let client: BackendClient;

  beforeAll(async () => {
    engine = await startTestEngine();
    redis = createRedis(inject('redisUrl'));
    client = new BackendClient({ baseUrl: engine.url, skill: skillForPreset('motion', '1.0.0', 'unknown') });
  });
  afterAll(async () => {
    redis.disconnect();
    await client.close();
    await engine.close();
  });

  const tokensFor = (prefix: string, configuredToken = '') =>
    new BackendTokens(redis, prefix, engine.url, {
      configuredToken,
      configuredClientId: '',
      requestAnonymousToken: (clientId) => client.anonymousToken(clientId),
    });

  it('gives a fleet of workers asking at once one anonymous token (the backend allows one per client)', async () => {
    const prefix = `test-${randomBytes(4).toString('hex')}`;
    const fleet = Array.from({ length: 6 }, () => tokensFor(prefix));
    const tokens = await Promise.all(fleet.map((t) => t.current()));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).toMatch(/^nmv_usr_/);
    // a second anonymous token for the same client would be refused, so the cache is what makes this work
    expect(await tokensFor(prefix).current()).toBe(tokens[0]);
    const session = await client.withToken(tokens[0] as string).createSession();
    expect(session.sessionId).toMatch(/^\d+$/);
  });

  it('uses NEMO_TOKEN first and falls back to an anonymous token once the backend rejects it', async () => {
    const prefix = `test-${randomBytes(4).toString('hex')}`;
    const tokens = tokensFor(prefix, 'nmv_usr_configured_but_expired');
    expect(await tokens.current()).toBe('nmv_usr_configured_but_expired');
    const fresh = await tokens.refresh('nmv_usr_configured_but_expired');
    expect(fresh).toMatch(/^nmv_usr_/);
    expect(fresh).not.toBe('nmv_usr_configured_but_expired');
    expect(await tokensFor(prefix, 'nmv_usr_configured_but_expired').current()).toBe(fresh);
  });
});
