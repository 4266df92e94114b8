import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPhotoServer, type PhotoServer } from '../helpers/photo-server.ts';
import { postJob, startTestService, waitForJob, type TestService } from '../helpers/service.ts';

type Json = Record<string, any>;

describe('templates: saved job bodies with {{placeholders}}', () => {
  let service: TestService;
  let photos: PhotoServer;

  beforeAll(async () => {
    service = await startTestService({ env: { API_KEYS: 'shop-a=key-a,shop-b=key-b,shop-c=key-c', TEMPLATES_MAX_PER_TENANT: '5' } });
    photos = await startPhotoServer(service.dir);
  });
  afterAll(async () => {
    photos?.close();
    await service?.close();
  });

  const call = (method: string, path: string, body?: unknown, key = 'key-a') =>
    fetch(`${service.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const json = async (response: Response) => (await response.json()) as Json;
  const productBody = (extra: Json = {}) => ({
    images: ['{{image_url}}'],
    prompt: 'a slow push-in on {{title}}',
    options: { duration_s: 1, aspect_ratio: '1:1', resolution: '720p', text: [{ text: '{{title}}', start_s: 0, end_s: 1 }], badge: { text: '{{price}}' } },
    metadata: { sku: '{{sku}}' },
    ...extra,
  });
  const save = async (body: unknown, key = 'key-a', name = 'product card') => {
    const response = await call('POST', '/v1/templates', { name, body }, key);
    expect(response.status).toBe(201);
    return json(response);
  };
  const jobCount = async (key: string) => (await json(await call('GET', '/v1/jobs?limit=100', undefined, key))).data.length as number;

  it('saves, lists page by page, versions (earlier versions stay readable) and deletes', async () => {
    const first = await save(productBody());
    expect(first).toMatchObject({ name: 'product card', version: 1, latest_version: 1, placeholders: ['image_url', 'price', 'sku', 'title'] });
    expect(first.id).toMatch(/^tpl_/);
    const second = await save({ images: ['{{a}}'] }, 'key-a', 'second');

    const v2 = await call('POST', `/v1/templates/${first.id}/versions`, { body: productBody({ prompt: 'version two {{title}}' }) });
    expect(v2.status).toBe(201);
    expect(await json(v2)).toMatchObject({ version: 2, latest_version: 2, name: 'product card' });
    expect(await json(await call('GET', `/v1/templates/${first.id}`))).toMatchObject({ version: 2, body: { prompt: 'version two {{title}}' } });
    expect(await json(await call('GET', `/v1/templates/${first.id}/versions/1`))).toMatchObject({ version: 1, latest_version: 2, body: { prompt: 'a slow push-in on {{title}}' } });
    const missingVersion = await call('GET', `/v1/templates/${first.id}/versions/3`);
    expect(missingVersion.status).toBe(404);
    expect((await json(missingVersion)).detail).toContain('latest is 2');

    const page1 = await json(await call('GET', '/v1/templates?limit=1'));
    expect(page1.data.map((t: Json) => t.id)).toEqual([second.id]);
    const page2 = await json(await call('GET', `/v1/templates?limit=1&cursor=${page1.next_cursor}`));
    expect(page2.data.map((t: Json) => t.id)).toEqual([first.id]);
    expect(page2.data[0].version).toBe(2);
    expect(page2.next_cursor).toBeNull();

    expect((await call('DELETE', `/v1/templates/${second.id}`)).status).toBe(204);
    expect((await call('GET', `/v1/templates/${second.id}`)).status).toBe(404);
    expect((await call('DELETE', `/v1/templates/${second.id}`)).status).toBe(404);
    expect((await json(await call('GET', '/v1/templates'))).data.map((t: Json) => t.id)).toEqual([first.id]);
  });

  it("keeps each tenant's templates its own: another tenant's id is 404 everywhere", async () => {
    const mine = await save(productBody(), 'key-b');
    for (const [method, path, body] of [
      ['GET', `/v1/templates/${mine.id}`],
      ['GET', `/v1/templates/${mine.id}/versions/1`],
      ['POST', `/v1/templates/${mine.id}/versions`, { body: { images: ['{{x}}'] } }],
      ['DELETE', `/v1/templates/${mine.id}`],
    ] as [string, string, unknown?][]) {
      const response = await call(method, path, body, 'key-c');
      expect(response.status, `${method} ${path}`).toBe(404);
      expect((await json(response)).code).toBe('not_found');
    }
    expect((await json(await call('GET', '/v1/templates', undefined, 'key-c'))).data).toEqual([]);
    const job = await postJob(service.url, { template_id: mine.id, merge: { image_url: photos.photo(1), title: 't', price: '1', sku: 's' } }, 'key-c');
    expect(job.status).toBe(404);
    expect(await json(await call('GET', `/v1/templates/${mine.id}`, undefined, 'key-b'))).toMatchObject({ version: 1 });
  });

  it('refuses, when saved, a body no merge could make valid; a field holding a placeholder is judged once merged', async () => {
    const cases: [unknown, string][] = [
      [{ images: ['{{a}}'], colour: 'red' }, 'body.body'],
      [{ prompt: '{{title}}' }, 'body.body.images'],
      [{ images: ['{{image url}}'] }, 'body.body.images.0'],
      [{ images: ['not a url'] }, 'body.body.images.0'],
      [{ images: ['{{a}}'], template_id: 'tpl_x' }, 'body.body'],
    ];
    for (const [body, path] of cases) {
      const response = await call('POST', '/v1/templates', { body }, 'key-c');
      const problem = await json(response);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(problem.code).toBe('validation_failed');
      expect(problem.errors.map((e: Json) => e.path)).toContain(path);
    }
  });

  it('caps the templates a tenant keeps (TEMPLATES_MAX_PER_TENANT) with 409 template_limit', async () => {
    for (let i = 0; i < 5; i++) await save({ images: [`{{image_${i}}}`] }, 'key-c');
    const over = await call('POST', '/v1/templates', { body: { images: ['{{a}}'] } }, 'key-c');
    expect(over.status).toBe(409);
    expect((await json(over)).code).toBe('template_limit');
    expect((await json(await call('GET', '/v1/templates', undefined, 'key-c'))).data).toHaveLength(5);
    // the other tenants are not counted against it
    expect((await call('POST', '/v1/templates', { body: { images: ['{{a}}'] } }, 'key-a')).status).toBe(201);
  });

  it('makes a job from a template and a merge: images fetched by URL, values kept exactly, the job names template and version', async () => {
    const template = await save(productBody());
    await call('POST', `/v1/templates/${template.id}/versions`, { body: productBody({ prompt: 'second version {{title}}' }) });
    const title = 'The "Tiny" {lamp} }} \\ 50%';
    const merge = { image_url: photos.photo('lamp'), title, price: '€19', sku: 'LAMP-1' };

    const created = await postJob(service.url, { template_id: template.id, template_version: 1, merge }, 'key-a');
    expect(created.status).toBe(202);
    const job = await waitForJob(service.url, (await json(created)).id, 'key-a');
    expect(job).toMatchObject({ status: 'succeeded', template: { id: template.id, version: 1 }, prompt: `a slow push-in on ${title}`, metadata: { sku: 'LAMP-1' } });
    expect(job.options.text[0].text).toBe(title);
    expect(job.options.badge.text).toBe('€19');
    expect(job.result).toMatchObject({ width: 720, height: 720 });
    const video = await fetch(job.result.video_url, { headers: { authorization: 'Bearer key-a' } });
    expect(video.status).toBe(200);
    expect((await video.arrayBuffer()).byteLength).toBeGreaterThan(1000);

    const latest = await json(await postJob(service.url, { template_id: template.id, merge }, 'key-a'));
    expect(latest).toMatchObject({ template: { id: template.id, version: 2 }, prompt: `second version ${title}` });
    const plain = await json(await postJob(service.url, { images: [photos.photo(2)] }, 'key-a'));
    expect(plain.template).toBeNull();
  });

  it('answers 422 naming the placeholders a merge lacks or does not fit, and validates the merged body like any other', async () => {
    const template = await save(productBody());
    const before = await jobCount('key-a');
    const missing = await postJob(service.url, { template_id: template.id, merge: { image_url: photos.photo(3), title: 't' } }, 'key-a');
    expect(missing.status).toBe(422);
    expect(await json(missing)).toMatchObject({ code: 'placeholder_missing', placeholders: ['price', 'sku'] });

    const unknown = await postJob(service.url, { template_id: template.id, merge: { image_url: photos.photo(3), title: 't', price: '1', sku: 's', colour: 'red' } }, 'key-a');
    expect(unknown.status).toBe(422);
    expect(await json(unknown)).toMatchObject({ code: 'placeholder_unknown', placeholders: ['colour'] });

    const badUrl = await postJob(service.url, { template_id: template.id, merge: { image_url: 'not a url', title: 't', price: '1', sku: 's' } }, 'key-a');
    expect(badUrl.status).toBe(400);
    expect((await json(badUrl)).errors.map((e: Json) => e.path)).toEqual(['body.images.0']);

    const strange = await postJob(service.url, { template_id: template.id, merge: {}, images: [photos.photo(1)] }, 'key-a');
    expect(strange.status).toBe(400);
    expect((await json(strange)).code).toBe('validation_failed');
    const noSuchVersion = await postJob(service.url, { template_id: template.id, template_version: 9, merge: {} }, 'key-a');
    expect(noSuchVersion.status).toBe(404);
    expect(await jobCount('key-a')).toBe(before);
  });

  const csvForm = (templateId: string, csv: string, fields: Record<string, string> = {}) => {
    const form = new FormData();
    form.set('template_id', templateId);
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
    form.set('rows', new Blob([csv], { type: 'text/csv' }), 'catalogue.csv');
    return fetch(`${service.url}/v1/batches`, { method: 'POST', headers: { authorization: 'Bearer key-b' }, body: form });
  };

  it('renders a catalogue from a template and an uploaded CSV in one request: every row a job, every job succeeds', async () => {
    const template = await save(productBody(), 'key-b');
    const csv = [
      'sku,image_url,title,price',
      `A-1,${photos.photo('a1')},"Chair, oak",€120`,
      `A-2,${photos.photo('a2')},"The ""Big"" {sofa}",€899`,
      '',
      `A-3,${photos.photo('a3')},Lamp,€35`,
    ].join('\n');
    const created = await csvForm(template.id, csv, { metadata: JSON.stringify({ catalogue: 'autumn' }) });
    expect(created.status).toBe(202);
    const { id, job_ids } = await json(created);
    expect(job_ids).toHaveLength(3);
    let batch: Json = {};
    for (let i = 0; i < 600 && !batch.completed_at; i++) {
      batch = await json(await call('GET', `/v1/batches/${id}`, undefined, 'key-b'));
      if (!batch.completed_at) await new Promise((r) => setTimeout(r, 200));
    }
    expect(batch).toMatchObject({ status: 'succeeded', metadata: { catalogue: 'autumn' }, counts: { succeeded: 3, failed: 0 } });
    expect(batch.jobs.map((j: Json) => [j.metadata.sku, j.options.text[0].text, j.options.badge.text])).toEqual([
      ['A-1', 'Chair, oak', '€120'],
      ['A-2', 'The "Big" {sofa}', '€899'],
      ['A-3', 'Lamp', '€35'],
    ]);
    expect(batch.jobs.every((j: Json) => j.template?.id === template.id && j.template.version === 1 && j.result?.duration_s > 0)).toBe(true);
  });

  it('refuses a catalogue with a bad row or a bad CSV with 422 naming it, and enqueues nothing', async () => {
    const template = await save(productBody(), 'key-b');
    const before = await jobCount('key-b');
    const badRow = await csvForm(template.id, ['sku,image_url,title,price', `B-1,${photos.photo('b1')},Ok,€1`, 'B-2,ftp://nope,Bad,€2'].join('\n'));
    expect(badRow.status).toBe(422);
    const problem = await json(badRow);
    expect(problem).toMatchObject({ code: 'template_rows_invalid', rows: [{ row: 2, code: 'validation_failed' }] });
    expect(problem.detail).toContain('row 2 (line 3)');

    const unknownColumn = await csvForm(template.id, 'sku,image_url,title,price,colour\nB-1,x,y,z,red\n');
    expect(unknownColumn.status).toBe(422);
    expect(await json(unknownColumn)).toMatchObject({ code: 'csv_invalid', placeholders: ['colour'] });
    const missingColumn = await csvForm(template.id, 'sku,image_url,title\nB-1,x,y\n');
    expect(await json(missingColumn)).toMatchObject({ code: 'csv_invalid', placeholders: ['price'] });
    const broken = await csvForm(template.id, `sku,image_url,title,price\nB-1,${photos.photo(1)},"unclosed,€1\n`);
    expect(broken.status).toBe(422);
    expect((await json(broken)).code).toBe('csv_invalid');

    const jsonRows = await call('POST', '/v1/batches', { template_id: template.id, rows: [{ sku: 'C-1', image_url: photos.photo('c1'), title: 'x', price: '1' }, { sku: 'C-2', image_url: photos.photo('c2'), title: 'x' }] }, 'key-b');
    expect(jsonRows.status).toBe(422);
    expect(await json(jsonRows)).toMatchObject({ code: 'template_rows_invalid', rows: [{ row: 2, code: 'placeholder_missing', placeholders: ['price'] }] });
    expect(await jobCount('key-b')).toBe(before);
  });

  it('takes JSON rows too', async () => {
    const template = await save({ images: ['{{image_url}}'], options: { duration_s: '{{seconds}}', aspect_ratio: '1:1', resolution: '720p' } }, 'key-b');
    const created = await call('POST', '/v1/batches', { template_id: template.id, rows: [{ image_url: photos.photo('d1'), seconds: 1 }, { image_url: photos.photo('d2'), seconds: 2 }] }, 'key-b');
    expect(created.status).toBe(202);
    const { job_ids } = await json(created);
    const jobs = await Promise.all(job_ids.map((id: string) => waitForJob(service.url, id, 'key-b')));
    expect(jobs.map((j) => [j.status, j.options.duration_s])).toEqual([['succeeded', 1], ['succeeded', 2]]);
  });
});
