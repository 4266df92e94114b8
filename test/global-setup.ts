import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startPrivateRedis } from '../src/cli/private-redis.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

async function testcontainersRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { RedisContainer } = await import('@testcontainers/redis');
  const container = await new RedisContainer('redis:7-alpine').start();
  return { url: container.getConnectionUrl(), stop: async () => void (await container.stop()) };
}

/**
 * Finds a Redis for the suite: REDIS_URL; else a Redis in a container
 * (testcontainers); else `redis-server` from the PATH on a free port.
 */
export default async function setup(project: TestProject) {
  const tried: string[] = [];
  let url = process.env.REDIS_URL;
  let stop: (() => Promise<void>) | undefined;
  if (!url) {
    for (const [name, start] of [
      ['testcontainers', testcontainersRedis],
      ['redis-server on the PATH', startPrivateRedis],
    ] as const) {
      try {
        ({ url, stop } = await start());
        break;
      } catch (error) {
        tried.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
      }
    }
  }
  if (!url) {
    throw new Error(
      `No Redis for the tests. Set REDIS_URL, run a container runtime for testcontainers, or install redis-server (apt-get install -y redis-server).\n${tried.join('\n')}`,
    );
  }
  project.provide('redisUrl', url);
  return async () => {
    await stop?.();
  };
}
