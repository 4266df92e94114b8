import { describe, expect, it } from 'vitest';
import { parseRenderStatus } from '../../../src/shared/backend/render-status.ts';

const poll = (text: string) => parseRenderStatus('render_poll', JSON.parse(text), 'render_1');

describe('parseRenderStatus', () => {
  it('reads the start reply', () => {
    const body = JSON.parse('{"success":true,"data":{"id":"render_1700000000","status":"pending","progress":5}}');
    expect(parseRenderStatus('render_start', body, 'render_x')).toEqual({ id: 'render_1700000000', status: 'pending', progress: 5 });
  });

  it('assumes pending when a start reply names no status', () => {
    const body = JSON.parse('{"success":true,"data":{"id":"render_1"}}');
    expect(parseRenderStatus('render_start', body, 'render_1')).toMatchObject({ status: 'pending', progress: 0 });
  });

  it('reads poll shape 1: success envelope with outputUrl', () => {
    expect(poll('{"success":true,"data":{"id":"render_1","status":"completed","progress":100,"outputUrl":"https://cdn.example/out.mp4"}}')).toEqual({
      id: 'render_1',
      status: 'completed',
      progress: 100,
      outputUrl: 'https://cdn.example/out.mp4',
    });
  });

  it('reads poll shape 2: taskId with an output object', () => {
    expect(
      poll('{"taskId":"render_2","status":"completed","progress":100,"output":{"url":"https://cdn.example/o.mp4","duration":30.5,"size":15728640}}'),
    ).toEqual({
      id: 'render_2',
      status: 'completed',
      progress: 100,
      outputUrl: 'https://cdn.example/o.mp4',
      durationS: 30.5,
      sizeBytes: 15728640,
    });
  });

  it('reads poll shape 3: a top-level status with output.url and no id', () => {
    expect(poll('{"status":"completed","output":{"url":"https://cdn.example/o.mp4"}}')).toEqual({
      id: 'render_1',
      status: 'completed',
      progress: 100,
      outputUrl: 'https://cdn.example/o.mp4',
    });
  });

  it('reads a code 0 envelope and in-between states', () => {
    expect(poll('{"code":0,"data":{"id":"render_1","status":"processing","progress":42}}')).toEqual({
      id: 'render_1',
      status: 'processing',
      progress: 42,
    });
    expect(poll('{"status":"QUEUED"}').status).toBe('pending');
    expect(poll('{"status":"running","progress":250}').progress).toBe(100);
  });

  it('carries the error of a failed render', () => {
    expect(poll('{"success":true,"data":{"id":"render_1","status":"failed","progress":60,"error":"encoder crashed"}}')).toMatchObject({
      status: 'failed',
      error: 'encoder crashed',
    });
    expect(poll('{"status":"error","error":{"message":"out of memory"}}')).toMatchObject({ status: 'failed', error: 'out of memory' });
  });

  it('refuses a reply without a known status', () => {
    expect(() => poll('{"success":true,"data":{"id":"render_1"}}')).toThrow(expect.objectContaining({ code: 'bad_reply' }));
    expect(() => poll('{"status":"constructor"}')).toThrow(expect.objectContaining({ code: 'bad_reply' }));
    expect(() => poll('"completed"')).toThrow(expect.objectContaining({ code: 'bad_reply' }));
  });
});
