import type { Redis } from '../../shared/infra/redis.ts';
import type { InputRole } from '../../shared/jobs/job-record.ts';
import { UPLOAD_TTL_S, UploadFiles } from '../../shared/jobs/upload-files.ts';

export interface UploadRecord {
  id: string;
  tenant: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  key: string;
  role: InputRole;
  createdAt: string;
}

/**
 * Files uploaded ahead of a job (POST /v1/uploads), usable as `upload:<id>`
 * for 24 h by their tenant. Their files are indexed by upload time for
 * retention, which deletes them later.
 */
export class UploadStore {
  private readonly files: UploadFiles;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.files = new UploadFiles(redis, prefix);
  }

  private key(id: string): string {
    return `${this.prefix}:upload:${id}`;
  }

  async save(records: readonly UploadRecord[]): Promise<void> {
    const multi = this.redis.multi();
    for (const record of records) {
      multi.set(this.key(record.id), JSON.stringify(record), 'EX', UPLOAD_TTL_S);
      this.files.track(multi, record.key, Date.parse(record.createdAt));
    }
    await multi.exec();
  }

  /** The tenant's upload, or undefined when it is missing, expired or another tenant's. */
  async get(tenant: string, id: string): Promise<UploadRecord | undefined> {
    const raw = await this.redis.get(this.key(id));
    const record = raw ? (JSON.parse(raw) as UploadRecord) : undefined;
    return record?.tenant === tenant ? record : undefined;
  }
}
