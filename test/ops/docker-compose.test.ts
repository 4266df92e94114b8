import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { settingNames } from './settings-names.ts';

interface Service {
  image?: string;
  command?: string[];
  container_name?: string;
  environment?: Record<string, string | null>;
  ports?: string[];
  volumes?: string[];
  stop_grace_period?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string; required?: boolean }>;
}

/** The services `docker compose up --scale engine=N --scale worker=N --scale api=N` runs several of. */
const SCALABLE = ['engine', 'worker', 'api'];

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

  it('publishes the API, through the proxy, on 127.0.0.1 unless API_BIND says otherwise', async () => {
    const { proxy } = await services();
    const published = (env: Record<string, string>) => proxy?.ports?.map((port) => interpolate(port, env));
    expect(published({})).toEqual(['127.0.0.1:3000:3000']);
    expect(published({ API_BIND: '0.0.0.0', API_PORT: '8080' })).toEqual(['0.0.0.0:8080:3000']);
    const others = Object.entries(await services()).filter(([name, service]) => name !== 'proxy' && service.ports);
    expect(others).toEqual([]);
  });

  it('can run several of the api, the worker and the engine: no fixed container name or host port', async () => {
    const all = await services();
    for (const name of SCALABLE) {
      expect(all[name], name).toBeDefined();
      expect(all[name]?.container_name, name).toBeUndefined();
      expect(all[name]?.ports, name).toBeUndefined();
    }
    expect(Object.values(all).filter((service) => service.container_name)).toEqual([]);
  });

  it('spreads requests over every API replica: the proxy (official Caddy image) looks up the api service on its port', async () => {
    const { proxy } = await services();
    expect(proxy?.image).toMatch(/^caddy:2/);
    const mount = proxy?.volumes?.find((volume) => volume.endsWith(':/etc/caddy/Caddyfile:ro'));
    const caddyfile = new URL(`../../${mount?.split(':')[0]?.replace(/^\.\//, '')}`, import.meta.url);
    expect(existsSync(caddyfile), `the Caddyfile ${mount}`).toBe(true);
    const config = readFileSync(caddyfile, 'utf8');
    // the API listens on PORT, 3000 in the image
    expect(config).toMatch(/dynamic a \{\s*name api\s*port 3000\s/);
    expect(config).toMatch(/^:3000 \{/m);
    expect(proxy?.ports?.[0]).toMatch(/:3000$/);
    // server-sent events (job events) are passed on at once, and idle connections to an API close before it closes them
    expect(config).toMatch(/flush_interval -1/);
    const keepalive = Number(/keepalive (\d+)s/.exec(config)?.[1]);
    expect(keepalive).toBeLessThan(72);
    expect(proxy?.healthcheck?.test.join(' ')).toContain('/healthz');
  });

  it('gives every engine the one engine volume and the one Redis the workers and the API use', async () => {
    const { engine, worker, api, redis } = await services();
    expect(engine?.command).toEqual(['engine']);
    // ENGINE_DIR is /data/engine in the image: the volume mounted at /data holds it
    expect(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')).toMatch(/ENGINE_DIR=\/data\/engine/);
    expect(engine?.volumes).toEqual(['engine-data:/data']);
    for (const [name, service] of Object.entries({ engine, worker, api })) {
      expect(service?.environment?.REDIS_URL, name).toBe('redis://redis:6379');
      expect(service?.environment?.REDIS_PREFIX, name).toBe('${REDIS_PREFIX:-i2v}');
      expect(service?.depends_on?.redis?.condition, name).toBe('service_healthy');
    }
    expect(worker?.volumes).toEqual(['storage:/data']);
    expect(api?.volumes).toEqual(['storage:/data']);
    expect(redis?.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('lets the workers reach every engine replica by the service name, on the engine port', async () => {
    const { worker, engine } = await services();
    const backend = new URL(interpolate(worker?.environment?.BACKEND_URL as string, { API_KEYS: 'x=y' }));
    expect(backend.hostname).toBe('engine');
    expect(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')).toContain(`ENGINE_PORT=${backend.port}`);
    expect(engine).toBeDefined();
    expect(worker?.depends_on?.engine).toEqual({ condition: 'service_started', required: false });
  });

  it('keeps Redis durable: AOF on, no eviction', async () => {
    const command = (await services()).redis?.command?.join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
  });

  it('gives running jobs and renders SHUTDOWN_GRACE_S before Docker kills a replica', async () => {
    const all = await services();
    for (const name of SCALABLE) {
      const grace = Number(interpolate(all[name]?.environment?.SHUTDOWN_GRACE_S ?? '30', {}));
      expect(Number.parseInt(all[name]?.stop_grace_period ?? '10', 10), name).toBeGreaterThan(grace);
    }
  });

  it('passes only real settings to the i2v processes', async () => {
    const settings = settingNames();
    const all = await services();
    const names = SCALABLE.flatMap((name) => Object.keys(all[name]?.environment ?? {}));
    expect(names.filter((name) => !settings.has(name))).toEqual([]);
  });
});
