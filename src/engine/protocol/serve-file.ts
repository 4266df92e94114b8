import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyReply } from 'fastify';

/** Streams a file with its length; a missing one is a plain 404. */
export async function sendFile(reply: FastifyReply, filePath: string, contentType: string, downloadName?: string): Promise<FastifyReply> {
  const info = await stat(filePath).catch(() => undefined);
  if (!info?.isFile()) return reply.code(404).send({ error: 'not found' });
  reply.header('content-type', contentType).header('content-length', info.size);
  if (downloadName) reply.header('content-disposition', `attachment; filename="${downloadName}"`);
  return reply.send(createReadStream(filePath));
}
