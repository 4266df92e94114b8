import type { Config } from '../infra/config.ts';
import { LocalStorage } from './local-storage.ts';
import type { Storage } from './storage.ts';

/** The storage the configuration names; the S3 SDK is loaded only when it is used. */
export async function createStorage(config: Config): Promise<Storage> {
  if (config.STORAGE === 'local') return new LocalStorage(config.STORAGE_DIR);
  const { S3Storage } = await import('./s3-storage.ts');
  return new S3Storage({ bucket: config.S3_BUCKET as string, region: config.S3_REGION, endpoint: config.S3_ENDPOINT, urlTtlS: config.S3_URL_TTL_S, timeoutMs: config.S3_TIMEOUT_S * 1000 });
}
