import { MAX_IMAGES, MAX_PROMPT_CHARS } from './jobs.ts';

/** The multipart form of POST /v1/jobs, which the JSON body schema cannot describe (files, options as JSON text). */
const jobForm = {
  type: 'object',
  required: ['images'],
  properties: {
    images: { type: 'array', items: { type: 'string', format: 'binary' }, minItems: 1, maxItems: MAX_IMAGES, description: 'Image files (jpg, png, webp, gif) or short videos, in timeline order' },
    audio: { type: 'string', format: 'binary', description: 'Background music (mp3, wav, m4a, aac); at most one' },
    prompt: { type: 'string', maxLength: MAX_PROMPT_CHARS },
    preset: { type: 'string', enum: ['motion', 'slideshow', 'diffusion', 'pixverse'] },
    options: { type: 'string', description: 'The options object of the JSON body, as JSON text' },
  },
};

const MULTIPART_FORMS: Record<string, Record<string, unknown>> = { '/v1/jobs': jobForm };

type Document = ReturnType<typeof import('fastify-type-provider-zod').jsonSchemaTransformObject>;

export function documentMultipartForms(document: Document): Document {
  const paths = (document as { paths?: Record<string, any> }).paths ?? {};
  for (const [path, schema] of Object.entries(MULTIPART_FORMS)) {
    const content = paths[path]?.post?.requestBody?.content;
    if (content?.['multipart/form-data']) content['multipart/form-data'] = { schema };
  }
  return document;
}
