import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { newId } from '../../../shared/infra/ids.ts';
import { storeMedia } from '../../services/media-intake.ts';
import type { ApiServices } from '../../services/api-services.ts';
import type { UploadRecord } from '../../services/upload-store.ts';
import { problems } from './jobs.ts';

const uploadSchema = z.object({ id: z.string(), filename: z.string(), content_type: z.string(), size_bytes: z.number().int() }).meta({ id: 'Upload' });

/** Files uploaded ahead of jobs and batches, referenced as `upload:<id>` for 24 h. */
export const uploadRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  app.post('/v1/uploads', {
    schema: {
      summary: 'Upload files for later jobs',
      operationId: 'createUploads',
      description: 'multipart/form-data with one or more file parts (any part name): pictures, short videos or audio, checked by content. Each is usable as `upload:<id>` in jobs of the same tenant for 24 h.',
      consumes: ['multipart/form-data'],
      response: { 201: z.object({ data: z.array(uploadSchema) }), ...problems },
    },
    handler: async (request, reply) => {
      if (!request.isMultipart()) throw new ProblemError('unsupported_media_type', 'Unsupported media type', 'send multipart/form-data with one or more files');
      const stored: UploadRecord[] = [];
      try {
        for await (const part of request.parts()) {
          if (part.type !== 'file') throw new ProblemError('validation_failed', 'Invalid request', `unexpected field "${part.fieldname}"; send only files`);
          const id = newId('upl');
          const media = await storeMedia(part.file, part.filename, ['image', 'audio'], services.storage, `uploads/${id}`, services.maxPixels, part.mimetype);
          stored.push({ id, tenant: request.tenant, filename: part.filename, contentType: media.mime, sizeBytes: media.sizeBytes, key: media.key, role: media.role, createdAt: new Date().toISOString() });
        }
      } catch (error) {
        await Promise.all(stored.map((upload) => services.storage.remove(upload.key)));
        throw error;
      }
      if (stored.length === 0) throw new ProblemError('validation_failed', 'Invalid request', 'send at least one file');
      await services.uploads.save(stored);
      return reply.code(201).send({
        data: stored.map((u) => ({ id: u.id, filename: u.filename, content_type: u.contentType, size_bytes: u.sizeBytes })),
      });
    },
  });
};
