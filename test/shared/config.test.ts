import { describe, expect, it } from 'vitest';
import { apiKeysByKey, ConfigError, engineRedisPrefixOf, hashTag, loadConfig } from '../../src/shared/infra/config.ts';

describe('configuration from the environment', () => {
  it('fills defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 3000, REDIS_URL: 'redis://127.0.0.1:6379', BACKEND_URL: '', WORKER_CONCURRENCY: 2, ENGINE_PORT: 8790 });
    expect(config.URL_FETCH_ALLOWLIST).toEqual([]);
    expect(apiKeysByKey(config)).toEqual(new Map([['dev-key', 'dev']]));
  });

  it('reports every bad variable in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'http://x', BACKEND_URL: 'not a url', WORKER_CONCURRENCY: '0', API_KEYS: 'nokey' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'REDIS_URL', 'BACKEND_URL', 'WORKER_CONCURRENCY', 'API_KEYS']) expect(problems).toContain(name);
    expect((error as ConfigError).message.split('\n')).toHaveLength(6);
  });

  it('refuses to serve the API in production without API keys; worker and engine may run', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/API_KEYS: required when NODE_ENV=production/);
    expect(() => loadConfig({ NODE_ENV: 'production', API_KEYS: 'shop=abc' })).not.toThrow();
    expect(() => loadConfig({ NODE_ENV: 'production' }, { servesApi: false })).not.toThrow();
  });

  it('parses tenants, several keys per tenant, and the URL allowlist', () => {
    const config = loadConfig({ API_KEYS: 'shop-a=k1, shop-b=k2,shop-a=k3', URL_FETCH_ALLOWLIST: '10.0.0.0/8, files.internal' });
    expect(apiKeysByKey(config)).toEqual(new Map([['k1', 'shop-a'], ['k2', 'shop-b'], ['k3', 'shop-a']]));
    expect(config.URL_FETCH_ALLOWLIST).toEqual(['10.0.0.0/8', 'files.internal']);
  });

  it('reads Sentinel, Cluster and TLS settings, and lists every Redis combination that cannot work in the one error', () => {
    expect(loadConfig({ REDIS_SENTINELS: '10.0.0.1:26379, [::1]:26380', REDIS_SENTINEL_MASTER: 'main' })).toMatchObject({
      REDIS_SENTINELS: [{ host: '10.0.0.1', port: 26379 }, { host: '::1', port: 26380 }],
      REDIS_SENTINEL_MASTER: 'main',
    });
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_PREFIX: '{i2v}' }).REDIS_CLUSTER_NODES).toEqual([{ host: 'a', port: 7000 }]);
    expect(hashTag('{i2v}')).toBe('i2v');
    expect(hashTag('shop{i2v}x')).toBe('i2v');
    expect(hashTag('i2v')).toBeUndefined();
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return [];
      } catch (error) {
        return [...new Set((error as ConfigError).problems.map((p) => p.split(':')[0]))];
      }
    };
    expect(problems({ REDIS_CLUSTER_NODES: 'a:7000' })).toEqual(['REDIS_PREFIX']);
    expect(problems({ REDIS_SENTINELS: 'a:26379', REDIS_CLUSTER_NODES: 'a:7000', REDIS_PREFIX: '{x}' })).toEqual(['REDIS_SENTINELS', 'REDIS_SENTINEL_MASTER']);
    expect(problems({ REDIS_SENTINEL_MASTER: 'm', REDIS_PASSWORD: 'p', REDIS_TLS: 'true' })).toEqual(['REDIS_SENTINEL_MASTER', 'REDIS_PASSWORD', 'REDIS_TLS']);
    expect(problems({ REDIS_TLS_CA: 'package.json' })).toEqual(['REDIS_TLS_CA']);
    expect(problems({ REDIS_URL: 'rediss://r:6380', REDIS_TLS_CERT: 'package.json' })).toEqual(['REDIS_TLS_CERT']);
    expect(problems({ REDIS_URL: 'rediss://r:6380', REDIS_TLS_CA: '/nonexistent/ca.pem', REDIS_SENTINELS: 'nope', REDIS_PREFIX: '{}' })).toEqual(['REDIS_PREFIX', 'REDIS_SENTINELS', 'REDIS_TLS_CA']);
    expect(problems({ REDIS_URL: 'rediss://r:6380', REDIS_TLS_CA: 'package.json', REDIS_TLS_CERT: 'package.json', REDIS_TLS_KEY: 'package.json' })).toEqual([]);
  });

  it('keeps the engine under <REDIS_PREFIX>:engine (its hash tag too) unless ENGINE_REDIS_PREFIX says otherwise, which a Cluster needs hash-tagged', () => {
    expect(engineRedisPrefixOf(loadConfig({}))).toBe('i2v:engine');
    expect(engineRedisPrefixOf(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_PREFIX: '{i2v}' }))).toBe('{i2v}:engine');
    expect(engineRedisPrefixOf(loadConfig({ ENGINE_REDIS_PREFIX: 'shop:engines' }))).toBe('shop:engines');
    expect(() => loadConfig({ REDIS_CLUSTER_NODES: 'a:7000', REDIS_PREFIX: '{i2v}', ENGINE_REDIS_PREFIX: 'engine' })).toThrow(/ENGINE_REDIS_PREFIX: with REDIS_CLUSTER_NODES it must hold a hash tag/);
    expect(() => loadConfig({ ENGINE_REDIS_PREFIX: 'a b' })).toThrow(/ENGINE_REDIS_PREFIX/);
  });
});
