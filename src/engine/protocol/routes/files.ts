import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { mimeTypeFor } from '../../../shared/media/media-formats.ts';
import type { EngineContext } from '../context.ts';
import { sendFile } from '../serve-file.ts';

/** Storage names are generated UUIDs with an extension; nothing else is ever a path here. */
const STORAGE_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[a-z0-9]{2,4}$/;
const SESSION_ID = /^\d{1,30}$/;

/**
 * The engine's "CDN": uploads (cdn_url) and finished renders (outputUrl),
 * served without a token like upstream's CDN links; their names are unguessable.
 */
export function fileRoutes(app: FastifyInstance, ctx: EngineContext): void {
  app.get<{ Params: { sid: string; name: string } }>('/files/:sid/:name', async (request, reply) => {
    const { sid, name } = request.params;
    if (!SESSION_ID.test(sid) || !STORAGE_NAME.test(name)) return reply.code(404).send({ error: 'not found' });
    return sendFile(reply, path.join(ctx.uploadsDir(sid), name), mimeTypeFor(name));
  });

  app.get<{ Params: { name: string } }>('/renders/:name', async (request, reply) => {
    const { name } = request.params;
    if (!STORAGE_NAME.test(name) || !name.endsWith('.mp4')) return reply.code(404).send({ error: 'not found' });
    return sendFile(reply, path.join(ctx.rendersDir, name), 'video/mp4');
  });
}
