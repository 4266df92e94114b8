import { describe, expect, it } from 'vitest';
import { AdminKey } from '../../src/shared/infra/admin-key.ts';
import { ConfigError, loadConfig } from '../../src/shared/infra/config.ts';

const KEY = 'k3y-for-the-admin-routes';
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('the admin key check', () => {
  const admin = new AdminKey(KEY);

  it('accepts the key as a Bearer token or as the password of user "admin"', () => {
    expect(admin.accepts(`Bearer ${KEY}`)).toBe(true);
    expect(admin.accepts(`bearer ${KEY}`)).toBe(true);
    expect(admin.accepts(basic(`admin:${KEY}`))).toBe(true);
  });

  it('refuses anything else', () => {
    for (const header of [
      undefined,
      '',
      KEY,
      `Bearer ${KEY}x`,
      `Bearer ${KEY.slice(0, -1)}`,
      `Bearer  `,
      basic(`root:${KEY}`),
      basic(`admin:${KEY}x`),
      basic(KEY),
      `Basic ${KEY}`,
      `Token ${KEY}`,
    ]) {
      expect(admin.accepts(header), String(header)).toBe(false);
    }
  });
});

describe('ADMIN_KEY and METRICS_PORT settings', () => {
  it('are optional: without them the admin routes and the metrics server are off', () => {
    const config = loadConfig({});
    expect(config.ADMIN_KEY).toBeUndefined();
    expect(config.METRICS_PORT).toBeUndefined();
  });

  it('refuse a short admin key without quoting it', () => {
    let error: unknown;
    try {
      loadConfig({ ADMIN_KEY: 'short-key' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(['ADMIN_KEY: must be at least 16 characters']);
    expect((error as Error).message).not.toContain('short-key');
  });

  it('refuse a metrics port without an admin key (the server would have nothing to check)', () => {
    expect(() => loadConfig({ METRICS_PORT: '9464' })).toThrow(/METRICS_PORT: the metrics server needs ADMIN_KEY/);
    expect(loadConfig({ METRICS_PORT: '9464', ADMIN_KEY: KEY }).METRICS_PORT).toBe(9464);
    expect(() => loadConfig({ METRICS_PORT: '70000', ADMIN_KEY: KEY })).toThrow(/METRICS_PORT/);
  });
});
