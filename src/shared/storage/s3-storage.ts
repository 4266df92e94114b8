import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { formatOfName } from '../media/media-formats.ts';
import { checkKey, ObjectNotFoundError, type ByteRange, type Delivery, type Storage } from './storage.ts';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** an S3-compatible server (MinIO, R2, s3rver…); addressed path-style */
  endpoint?: string;
  /** lifetime of presigned download URLs */
  urlTtlS: number;
  /** connecting, and any request with no bytes moving, fail after this (a half-open peer never holds a worker) */
  timeoutMs: number;
}

/** DeleteObjects takes at most this many keys. */
const DELETE_BATCH = 1000;

function isMissing(error: unknown): boolean {
  return error instanceof NoSuchKey || error instanceof NotFound || (error as { name?: string } | null)?.name === 'NotFound';
}

/**
 * Storage in an S3 bucket. Writes stream as a multipart upload (the object
 * appears only when it completes); reads and ranges stream from GetObject;
 * clients download through presigned URLs. Credentials come from the AWS
 * SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles,
 * instance roles) and are never logged.
 */
export class S3Storage implements Storage {
  private readonly client: S3Client;

  constructor(private readonly options: S3StorageOptions) {
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint, forcePathStyle: true } : {}),
      // checksums only where S3 requires them: S3-compatible servers do not all take the SDK's streamed trailing checksums
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: options.timeoutMs, requestTimeout: options.timeoutMs, throwOnRequestTimeout: true },
    });
  }

  async write(key: string, source: Readable, checks: readonly Transform[] = []): Promise<{ sizeBytes: number }> {
    checkKey(key);
    let sizeBytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        sizeBytes += chunk.length;
        done(null, chunk);
      },
    });
    const body = new PassThrough();
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: key, Body: body, ContentType: formatOfName(key)?.mime },
    });
    const uploading = upload.done();
    // the store refusing stops the stream; a stream that fails (a check, the client going away) aborts the upload
    uploading.catch((error: unknown) => body.destroy(error as Error));
    try {
      await pipeline([source, ...checks, counter, body]);
    } catch (error) {
      await upload.abort().catch(() => undefined);
      await uploading.catch(() => undefined);
      throw error;
    }
    await uploading;
    return { sizeBytes };
  }

  /** A server-side copy (no bytes through this process); objects up to 5 GB, far above any stored video. */
  async copy(from: string, to: string): Promise<void> {
    try {
      await this.client.send(new CopyObjectCommand({ Bucket: this.options.bucket, Key: checkKey(to), CopySource: `${this.options.bucket}/${checkKey(from)}` }));
    } catch (error) {
      throw isMissing(error) ? new ObjectNotFoundError(from) : error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: checkKey(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      return object.Body as Readable;
    } catch (error) {
      throw isMissing(error) ? new ObjectNotFoundError(key) : error;
    }
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: checkKey(key) }));
      return head.ContentLength;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** Downloads the object into a temporary folder, removed once `use` is done. */
  async moveIn(key: string, file: string): Promise<{ sizeBytes: number }> {
    const stored = await this.write(key, createReadStream(file));
    await rm(file, { force: true });
    return stored;
  }

  async withLocalFile<T>(key: string, use: (path: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(path.join(tmpdir(), 'i2v-s3-'));
    try {
      const file = path.join(dir, path.basename(key));
      await pipeline(await this.read(key), createWriteStream(file));
      return await use(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** A presigned GET URL, valid for `urlTtlS`; Range requests work on it. */
  async delivery(key: string): Promise<Delivery | undefined> {
    if ((await this.size(key)) === undefined) return undefined;
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.options.bucket, Key: key }), { expiresIn: this.options.urlTtlS });
    return { kind: 'url', url };
  }

  async remove(prefix: string): Promise<void> {
    const keys = [checkKey(prefix)];
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: `${prefix}/`, ContinuationToken: continuationToken }),
      );
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const reply = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = reply.Errors ?? [];
      if (failed.length > 0) throw new Error(`S3 refused to delete ${failed.length} object(s) under ${prefix}: ${failed[0]?.Code ?? 'unknown'}`);
    }
  }

  close(): void {
    this.client.destroy();
  }
}
