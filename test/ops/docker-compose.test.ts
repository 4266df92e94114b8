import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Service {
  environment?: Record<string, string | null>;
  ports?: string[];
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` (the forms the file uses), as `docker compose` expands them. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([-?])([^}]*))?\}/g, (_match, name: string, kind?: string, rest = '') => {
    const set = env[name];
    if (set) return set;
    if (kind === '?') throw new Error(`required variable ${name} is missing a value: ${rest}`);
    return kind === '-' ? rest : '';
  });
}

async function services(): Promise<Record<string, Service>> {
  const file = parse(await readFile(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  return file.services;
}

describe('docker-compose.yml', () => {
  it('will not start without API_KEYS, and has no key of its own', async () => {
    const withKeys = Object.entries(await services()).filter(([, service]) => service.environment && 'API_KEYS' in service.environment);
    expect(withKeys.map(([name]) => name).sort()).toEqual(['api', 'worker']);
    for (const [, service] of withKeys) {
      const keys = service.environment?.API_KEYS as string;
      expect(() => interpolate(keys, {})).toThrow(/required variable API_KEYS/);
      expect(interpolate(keys, { API_KEYS: 'shop=s3cret-key' })).toBe('shop=s3cret-key');
    }
  });

  it('publishes the API on 127.0.0.1 unless API_BIND says otherwise', async () => {
    const { api } = await services();
    const published = (env: Record<string, string>) => api?.ports?.map((port) => interpolate(port, env));
    expect(published({})).toEqual(['127.0.0.1:3000:3000']);
    expect(published({ API_BIND: '0.0.0.0', API_PORT: '8080' })).toEqual(['0.0.0.0:8080:3000']);
    const others = Object.entries(await services()).filter(([name, service]) => name !== 'api' && service.ports);
    expect(others).toEqual([]);
  });
});
