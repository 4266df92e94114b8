import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { templatePlaceholders } from '../../../shared/jobs/template-body.ts';
import { checkTemplateBody, ownTemplate, templateNotFound } from '../../services/template-jobs.ts';
import type { TemplateRecord } from '../../services/template-store.ts';
import type { ApiServices } from '../../services/api-services.ts';
import {
  listTemplatesQuerySchema,
  MAX_TEMPLATE_BYTES,
  saveTemplateSchema,
  templateListSchema,
  templateParamsSchema,
  templateSchema,
  templateVersionParamsSchema,
} from '../schemas/templates.ts';
import { problemReply } from '../schemas/jobs.ts';
import { problems } from './jobs.ts';

function templateView(template: TemplateRecord): z.infer<typeof templateSchema> {
  return {
    id: template.id,
    name: template.name,
    version: template.version,
    latest_version: template.latestVersion,
    placeholders: templatePlaceholders(template.body),
    body: template.body,
    created_at: template.createdAt,
    version_created_at: template.versionCreatedAt,
  };
}

const saveProblems = { ...problems, 409: problemReply('A new template past TEMPLATES_MAX_PER_TENANT, or a version past 100 (`template_limit`)') };

/** A tenant's saved job bodies with `{{placeholders}}`, versioned; jobs and batches are made from them with a merge. */
export const templateRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  app.post('/v1/templates', {
    schema: {
      summary: 'Save a template',
      operationId: 'createTemplate',
      description:
        'A job body (JSON, as POST /v1/jobs takes it) whose strings may hold `{{placeholders}}`. It is checked as far as it can be before a merge: unknown fields, malformed placeholders and wrong values without a placeholder are refused. Version 1; later versions keep the earlier ones readable.',
      body: saveTemplateSchema,
      response: { 201: templateSchema, ...saveProblems },
    },
    bodyLimit: MAX_TEMPLATE_BYTES,
    handler: async (request, reply) => {
      checkTemplateBody(request.body.body);
      const template = await services.templates.create(request.tenant, request.body.name, request.body.body);
      return reply.code(201).header('location', `/v1/templates/${template.id}`).send(templateView(template));
    },
  });

  app.get('/v1/templates', {
    schema: { summary: "List the tenant's templates, newest first", operationId: 'listTemplates', querystring: listTemplatesQuerySchema, response: { 200: templateListSchema, ...problems } },
    handler: async (request) => {
      const { templates, more } = await services.templates.list(request.tenant, request.query.limit, request.query.cursor);
      return { data: templates.map(templateView), next_cursor: more ? (templates.at(-1)?.id ?? null) : null };
    },
  });

  app.get('/v1/templates/:id', {
    schema: { summary: 'Get a template at its latest version', operationId: 'getTemplate', params: templateParamsSchema, response: { 200: templateSchema, ...problems } },
    handler: async (request) => templateView(await ownTemplate(services.templates, request.tenant, request.params.id)),
  });

  app.get('/v1/templates/:id/versions/:version', {
    schema: { summary: 'Get one version of a template', operationId: 'getTemplateVersion', params: templateVersionParamsSchema, response: { 200: templateSchema, ...problems } },
    handler: async (request) => templateView(await ownTemplate(services.templates, request.tenant, request.params.id, request.params.version)),
  });

  app.post('/v1/templates/:id/versions', {
    schema: {
      summary: 'Save a new version of a template',
      operationId: 'createTemplateVersion',
      description: 'The new version becomes the latest; jobs without `template_version` use it. Earlier versions stay readable and usable. `name`, when given, renames the template.',
      params: templateParamsSchema,
      body: saveTemplateSchema,
      response: { 201: templateSchema, ...saveProblems },
    },
    bodyLimit: MAX_TEMPLATE_BYTES,
    handler: async (request, reply) => {
      checkTemplateBody(request.body.body);
      const template = await services.templates.addVersion(request.tenant, request.params.id, request.body.name, request.body.body);
      if (!template) throw templateNotFound(request.params.id);
      return reply.code(201).header('location', `/v1/templates/${template.id}/versions/${template.version}`).send(templateView(template));
    },
  });

  app.delete('/v1/templates/:id', {
    schema: {
      summary: 'Delete a template with all its versions',
      operationId: 'deleteTemplate',
      description: 'Jobs already made from it keep their bodies; new jobs naming it answer 404.',
      params: templateParamsSchema,
      response: { 204: z.null().describe('Deleted'), ...problems },
    },
    handler: async (request, reply) => {
      if (!(await services.templates.delete(request.tenant, request.params.id))) throw templateNotFound(request.params.id);
      return reply.code(204).send(null);
    },
  });
};
