import { createWriteStream, openAsBlob } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createParser } from 'eventsource-parser';
import { fetch, FormData, request } from 'undici';
import { DEV_TENANT } from '../../shared/infra/config.ts';
import type { JobStatus } from '../../shared/jobs/job-record.ts';
import type { JobView } from '../../shared/jobs/job-view.ts';
import { ApiProblem } from './api-problem.ts';

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

export interface ClientSettings {
  /** the API's base URL, without a trailing slash */
  url: string;
  apiKey: string;
}

/** Where the API is and which key to use: I2V_URL and I2V_API_KEY, else a local API and the dev key. */
export function clientSettings(env: NodeJS.ProcessEnv = process.env): ClientSettings {
  return { url: (env.I2V_URL || DEFAULT_API_URL).replace(/\/+$/, ''), apiKey: env.I2V_API_KEY || DEV_TENANT.key };
}

export interface UploadView {
  id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
}

export interface JobList {
  data: JobView[];
  next_cursor: string | null;
}

/** A JSON job body as POST /v1/jobs takes it. */
export interface CreateJobRequest {
  images: string[];
  prompt?: string;
  preset?: string;
  options?: Record<string, unknown>;
}

/** A job from a saved template (POST /v1/templates) and a value for each of its placeholders. */
export interface CreateTemplateJobRequest {
  template_id: string;
  template_version?: number;
  merge: Record<string, string>;
}

/** The REST API as the CLI uses it; every failure is an ApiProblem. */
export class ApiClient {
  constructor(private readonly settings: ClientSettings) {}

  get url(): string {
    return this.settings.url;
  }

  getJob(id: string): Promise<JobView> {
    return this.json('GET', `/v1/jobs/${encodeURIComponent(id)}`);
  }

  listJobs(query: { limit?: number; status?: JobStatus } = {}): Promise<JobList> {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.status) params.set('status', query.status);
    const search = params.size > 0 ? `?${params}` : '';
    return this.json('GET', `/v1/jobs${search}`);
  }

  cancelJob(id: string): Promise<JobView> {
    return this.json('POST', `/v1/jobs/${encodeURIComponent(id)}/cancel`);
  }

  createJob(body: CreateJobRequest | CreateTemplateJobRequest): Promise<JobView> {
    return this.json('POST', '/v1/jobs', body);
  }

  /** Local files, streamed from disk as one multipart request, for use as `upload:<id>`. */
  async uploadFiles(files: string[]): Promise<UploadView[]> {
    const form = new FormData();
    for (const file of files) form.append('file', await openAsBlob(file), path.basename(file));
    const response = await this.call(`${this.url}/v1/uploads`, { method: 'POST', headers: this.headers(), body: form });
    if (response.status !== 201) throw ApiProblem.fromReply(response.status, await response.text());
    return ((await response.json()) as { data: UploadView[] }).data;
  }

  /**
   * The job's Server-Sent Events: each `job` event's snapshot, until the
   * server ends the stream (after the job ends) or the connection drops.
   */
  async *events(id: string, signal?: AbortSignal): AsyncGenerator<JobView> {
    const url = `${this.url}/v1/jobs/${encodeURIComponent(id)}/events`;
    const reply = await this.guard(url, () => request(url, { method: 'GET', headers: { ...this.headers(), accept: 'text/event-stream' }, signal }));
    if (reply.statusCode !== 200) throw ApiProblem.fromReply(reply.statusCode, await reply.body.text());
    const pending: JobView[] = [];
    const parser = createParser({
      onEvent: (event) => {
        if (event.event === 'job') pending.push(JSON.parse(event.data) as JobView);
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of reply.body) {
        parser.feed(decoder.decode(chunk as Buffer, { stream: true }));
        while (pending.length > 0) yield pending.shift() as JobView;
      }
    } finally {
      reply.body.destroy();
    }
  }

  /** Downloads a job's MP4 to `target` (written under a temporary name, renamed when complete). */
  /** The job's video, or its rendition `output` (result.outputs[output]). */
  async downloadVideo(id: string, target: string, output?: number): Promise<void> {
    const url = `${this.url}/v1/jobs/${encodeURIComponent(id)}${output === undefined ? '' : `/outputs/${output}`}/video`;
    const response = await this.call(url, { headers: this.headers() });
    if (!response.ok || !response.body) throw ApiProblem.fromReply(response.status, await response.text());
    const partial = `${target}.part`;
    try {
      await pipeline(Readable.fromWeb(response.body as never), createWriteStream(partial));
      await rename(partial, target);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.settings.apiKey}`, 'user-agent': 'i2v-cli' };
  }

  private async json<T>(method: 'GET' | 'POST', pathname: string, body?: unknown): Promise<T> {
    const url = `${this.url}${pathname}`;
    const headers: Record<string, string> = { ...this.headers(), accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const reply = await this.guard(url, () => request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
    const text = await reply.body.text();
    if (reply.statusCode >= 300) throw ApiProblem.fromReply(reply.statusCode, text);
    return JSON.parse(text) as T;
  }

  private call(url: string, init: Parameters<typeof fetch>[1]) {
    return this.guard(url, () => fetch(url, init));
  }

  /** Network failures become a problem that names the URL (never the key). */
  private async guard<T>(url: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof ApiProblem || (error as Error).name === 'AbortError') throw error;
      const cause = (error as Error & { cause?: Error & { code?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error & { code?: string }).code ?? (error as Error).message;
      throw new ApiProblem(0, 'Cannot reach the API', `${new URL(url).origin}: ${reason} (set I2V_URL to the API's address)`, 'unreachable');
    }
  }
}
