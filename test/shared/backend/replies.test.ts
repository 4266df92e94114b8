import { describe, expect, it } from 'vitest';
import {
  parseAnonymousToken,
  parseCreditsBalance,
  parseSession,
  parseSessionState,
  parseUploadedFiles,
} from '../../../src/shared/backend/replies.ts';

const json = (text: string): unknown => JSON.parse(text);

describe('parseAnonymousToken', () => {
  it('reads the documented reply', () => {
    const body = json('{"code":0,"data":{"token":"nmv_usr_abc","user_id":"anon_abc123","expires_at":"2025-01-08T00:00:00Z","credits":100}}');
    expect(parseAnonymousToken(body)).toEqual({
      token: 'nmv_usr_abc',
      userId: 'anon_abc123',
      expiresAt: '2025-01-08T00:00:00Z',
      credits: 100,
    });
  });

  it('reads camelCase keys and an epoch expiry', () => {
    const body = json('{"code":0,"message":"ok","data":{"token":"t","userId":"anon_x","expiresAt":1736294400}}');
    expect(parseAnonymousToken(body)).toMatchObject({ token: 't', userId: 'anon_x', expiresAt: '2025-01-08T00:00:00.000Z' });
  });

  it('refuses a reply without a token', () => {
    expect(() => parseAnonymousToken(json('{"code":0,"data":{"user_id":"anon_x"}}'))).toThrow(
      expect.objectContaining({ code: 'bad_reply', detail: expect.objectContaining({ endpoint: 'anonymous_token' }) }),
    );
  });
});

describe('parseSession', () => {
  it('reads the documented reply', () => {
    const body = json('{"code":0,"data":{"task_id":"task_1","session_id":"5529798706024415232","user_id":"anon_abc"}}');
    expect(parseSession(body)).toEqual({ sessionId: '5529798706024415232', taskId: 'task_1', userId: 'anon_abc' });
  });

  it('reads a numeric session id as a string', () => {
    expect(parseSession(json('{"code":0,"data":{"session_id":42}}')).sessionId).toBe('42');
  });

  it('refuses a reply without a session id', () => {
    expect(() => parseSession(json('{"code":0,"data":{}}'))).toThrow(expect.objectContaining({ code: 'bad_reply' }));
    expect(() => parseSession(json('[1,2]'))).toThrow(expect.objectContaining({ code: 'bad_reply' }));
  });
});

describe('parseUploadedFiles', () => {
  it('reads the documented reply', () => {
    const body = json(`{"code":0,"data":{"files":[
      {"filename":"shoe.jpg","file_type":"image","cdn_url":"https://cdn.example/shoe.jpg","width":1200,"height":800,"hash":"abc"},
      {"filename":"clip.mp4","file_type":"video","cdn_url":"https://cdn.example/clip.mp4","duration":12.5,"width":1920,"height":1080,"fps":30,"hash":"def"},
      {"filename":"bgm.mp3","file_type":"audio","cdn_url":"https://cdn.example/bgm.mp3","duration":60}
    ],"session_state_applied":true}}`);
    expect(parseUploadedFiles(body)).toEqual([
      { filename: 'shoe.jpg', fileType: 'image', cdnUrl: 'https://cdn.example/shoe.jpg', width: 1200, height: 800, hash: 'abc' },
      {
        filename: 'clip.mp4',
        fileType: 'video',
        cdnUrl: 'https://cdn.example/clip.mp4',
        durationS: 12.5,
        width: 1920,
        height: 1080,
        fps: 30,
        hash: 'def',
      },
      { filename: 'bgm.mp3', fileType: 'audio', cdnUrl: 'https://cdn.example/bgm.mp3', durationS: 60 },
    ]);
  });

  it('infers a missing file_type from a MIME type or the file name', () => {
    const body = json(`{"code":0,"data":{"files":[
      {"filename":"a.webp","cdnUrl":"https://cdn.example/a.webp"},
      {"name":"b","url":"https://cdn.example/b","content_type":"audio/mpeg"}
    ]}}`);
    expect(parseUploadedFiles(body).map((f) => [f.filename, f.fileType])).toEqual([
      ['a.webp', 'image'],
      ['b', 'audio'],
    ]);
  });

  it('refuses a file without a cdn_url or a list', () => {
    expect(() => parseUploadedFiles(json('{"code":0,"data":{"files":[{"filename":"a.jpg"}]}}'))).toThrow(
      expect.objectContaining({ code: 'bad_reply', detail: expect.objectContaining({ endpoint: 'upload' }) }),
    );
    expect(() => parseUploadedFiles(json('{"code":0,"data":{}}'))).toThrow(expect.objectContaining({ code: 'bad_reply' }));
  });
});

describe('parseSessionState', () => {
  it('reads the documented reply', () => {
    const body = json(`{"code":0,"data":{"session_id":"55","task_id":"task_1","state":{
      "draft":{"t":[{"tt":0,"sg":[]}],"d":10000,"m":{"width":1920,"height":1080}},
      "video_infos":[{"cdn_url":"https://cdn.example/a.jpg"}],
      "generated_media":{"videos":[]},
      "canvas_config":{"width":1920,"height":1080}}}}`);
    expect(parseSessionState(body, '55')).toEqual({
      sessionId: '55',
      taskId: 'task_1',
      state: {
        draft: { t: [{ tt: 0, sg: [] }], d: 10000, m: { width: 1920, height: 1080 } },
        videoInfos: [{ cdn_url: 'https://cdn.example/a.jpg' }],
        generatedMedia: { videos: [] },
        canvasConfig: { width: 1920, height: 1080 },
      },
    });
  });

  it('fills in an empty session', () => {
    expect(parseSessionState(json('{"code":0,"data":{"state":{}}}'), '55')).toEqual({
      sessionId: '55',
      taskId: undefined,
      state: { draft: null, videoInfos: [], generatedMedia: null, canvasConfig: null },
    });
  });

  it('reads a draft stored as a JSON string', () => {
    const body = json('{"code":0,"data":{"session_id":"55","state":{"draft":"{\\"t\\":[],\\"d\\":0}"}}}');
    expect(parseSessionState(body, '55').state.draft).toEqual({ t: [], d: 0 });
  });

  it("keeps the draft's own text, as the reply wrote it, to be sent back byte for byte", () => {
    const draft = '{"t": [{"tt": 0, "sg": [{"d": 5000, "m": {"label": "Caf\\u00e9", "scale": 1.0, "s": "a,}b"}}]}], "d": 5e3}';
    const text = `{"code": 0, "data": {"task_id": "t", "state": {"video_infos": [{"draft": 1}], "draft": ${draft}, "canvas_config": {}}}}`;
    expect(parseSessionState(json(text), '55', text).state.draftJson).toBe(draft);
    const bare = `{"state": {"draft": ${draft}}}`;
    expect(parseSessionState(json(bare), '55', bare).state.draftJson).toBe(draft);
    const serialized = JSON.stringify({ code: 0, data: { state: { draft } } });
    expect(parseSessionState(json(serialized), '55', serialized).state.draftJson).toBe(draft);
    const twice = '{"data": {"state": {"draft": {"t": []}, "draft": {"t": [], "d": 1}}}}';
    expect(parseSessionState(json(twice), '55', twice).state.draftJson).toBeUndefined();
  });
});

describe('parseCreditsBalance', () => {
  it('reads the documented reply', () => {
    expect(parseCreditsBalance(json('{"code":0,"data":{"available":80,"frozen":20,"total":100}}'))).toEqual({
      available: 80,
      frozen: 20,
      total: 100,
    });
  });

  it('derives the total when it is missing', () => {
    expect(parseCreditsBalance(json('{"code":0,"data":{"available":"75","frozen":5}}'))).toEqual({ available: 75, frozen: 5, total: 80 });
  });

  it('refuses a reply without available credits', () => {
    expect(() => parseCreditsBalance(json('{"code":0,"data":{"total":3}}'))).toThrow(expect.objectContaining({ code: 'bad_reply' }));
  });
});
