import { describe, expect, it } from 'vitest';
import { BackendError } from '../../../src/shared/errors/backend-error.ts';
import { replyError, retryAfterSeconds } from '../../../src/shared/backend/reply-error.ts';

const reply = (httpStatus: number, text: string, retryAfter?: string) =>
  replyError({ endpoint: 'create_session', httpStatus, text, retryAfter });

describe('replyError', () => {
  it('passes a code 0 envelope', () => {
    expect(reply(200, '{"code":0,"message":"ok","data":{"session_id":"1"}}')).toBeUndefined();
  });

  it('passes replies without an envelope code', () => {
    expect(reply(200, '{"success":true,"data":{"id":"render_1"}}')).toBeUndefined();
    expect(reply(200, '')).toBeUndefined();
  });

  it('turns a code≠0 envelope with HTTP 200 into that code', () => {
    const error = reply(200, '{"code":1001,"message":"token expired"}');
    expect(error).toBeInstanceOf(BackendError);
    expect(error).toMatchObject({ code: 1001, message: 'create_session: token expired', detail: { endpoint: 'create_session', httpStatus: 200 } });
  });

  it('prefers the envelope code over a 4xx status', () => {
    expect(reply(401, '{"code":1001,"message":"invalid token"}')?.code).toBe(1001);
    expect(reply(404, '{"code":1002,"message":"session not found"}')?.code).toBe(1002);
    expect(reply(402, '{"code":2001,"message":"insufficient credits"}')?.code).toBe(2001);
    expect(reply(400, '{"code":4001,"message":"unsupported file type"}')?.code).toBe(4001);
    expect(reply(413, '{"code":4002,"message":"file too large"}')?.code).toBe(4002);
  });

  it('reads a numeric string code', () => {
    expect(reply(200, '{"code":"2001","message":"no credits"}')?.code).toBe(2001);
  });

  it('uses the HTTP status for 400, 402 and 429 without an envelope code', () => {
    expect(reply(400, '{"detail":"missing X-Client-Id"}')).toMatchObject({ code: 400, message: 'create_session: missing X-Client-Id' });
    expect(reply(402, 'Payment Required')).toMatchObject({ code: 402, message: 'create_session: HTTP 402' });
    expect(reply(429, '')?.code).toBe(429);
  });

  it('defaults Retry-After to 30 s for 429 and surfaces the header when present', () => {
    expect(reply(429, '')?.detail.retryAfterS).toBe(30);
    expect(reply(429, '{"code":429,"message":"slow down"}', '7')?.detail.retryAfterS).toBe(7);
    expect(reply(503, '', '12')?.detail.retryAfterS).toBe(12);
    expect(reply(400, '')?.detail.retryAfterS).toBeUndefined();
  });

  it('keeps the HTTP status for 5xx, even with an envelope', () => {
    expect(reply(503, '<html>busy</html>')).toMatchObject({ code: 503, message: 'create_session: HTTP 503' });
    expect(reply(500, '{"code":9999,"message":"internal"}')).toMatchObject({ code: 500, message: 'create_session: internal' });
  });

  it('reads ADK "Session not found" 404 as 1002 and a bare 401 as 1001', () => {
    expect(reply(404, '{"detail":"Session not found"}')?.code).toBe(1002);
    expect(reply(404, '{"detail":"Not Found"}')?.code).toBe(404);
    expect(reply(401, '')?.code).toBe(1001);
  });

  it('turns the render proxy\'s success:false into an error, with or without a 4xx', () => {
    expect(reply(200, '{"success":false,"error":"duplicate id"}')).toMatchObject({ code: 400, message: 'create_session: duplicate id' });
    expect(reply(409, '{"success":false,"error":"duplicate id"}')?.code).toBe(409);
    expect(reply(404, '{"success":false,"error":{"message":"render not found"}}')).toMatchObject({
      code: 404,
      message: 'create_session: render not found',
    });
  });

  it('treats an unexpected 3xx as a bad reply', () => {
    expect(reply(302, '')?.code).toBe('bad_reply');
  });
});

describe('retryAfterSeconds', () => {
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(retryAfterSeconds('120', now)).toBe(120);
    expect(retryAfterSeconds(['5', '9'], now)).toBe(5);
    expect(retryAfterSeconds('Wed, 01 Jan 2025 00:00:42 GMT', now)).toBe(42);
    expect(retryAfterSeconds('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
    expect(retryAfterSeconds(undefined, now)).toBeUndefined();
  });
});
