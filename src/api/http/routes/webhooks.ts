import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProblemError } from '../../../shared/errors/problem-error.ts';
import { WEBHOOK_EVENTS } from '../../../shared/jobs/job-record.ts';
import { DELIVERY_STATUSES, type DeliveryAttempt } from '../../../shared/webhooks/store.ts';
import type { SecretInfo } from '../../../shared/webhooks/secrets.ts';
import type { ApiServices } from '../../services/api-services.ts';
import { problems } from './jobs.ts';

const secretSchema = z
  .object({
    secret: z.string().describe('`whsec_…`: give it to a Standard Webhooks library (`new Webhook(secret).verify(body, headers)`)'),
    created_at: z.string().nullable().describe('When this secret was made; null for one set in WEBHOOK_SECRETS'),
    previous_secret_expires_at: z.string().nullable().describe('Until then deliveries are signed with the previous secret too'),
    lost_secret: z
      .object({
        created_at: z.string().nullable().describe('When the lost secret had been made'),
        detected_at: z.string().describe('When the service noticed the loss and made this secret'),
      })
      .nullable()
      .describe(
        "Set when the secret your receivers hold was lost with the service's Redis data and this one took its place: nothing is signed with it (deliveries are `held`) until you install it and call `POST /v1/webhooks/secret/acknowledge`",
      ),
    held_deliveries: z.number().int().describe('Events held for that acknowledgement; they are sent when it comes'),
  })
  .meta({ id: 'WebhookSecret' });

const deliverySchema = z
  .object({
    id: z.string().describe('This attempt'),
    event_id: z.string().describe('The `webhook-id` header: the same on every attempt and redelivery of one event'),
    type: z.enum(WEBHOOK_EVENTS),
    job_id: z.string().nullable(),
    batch_id: z.string().nullable(),
    url: z.string(),
    status: z
      .enum(DELIVERY_STATUSES)
      .describe(
        'delivered (2xx), retrying (another attempt is scheduled), failed (no more attempts), gone (410: nothing more is sent to this URL), skipped (not sent: the URL answered 410 before), held (not sent: the signing secret was lost with Redis data; sent once the tenant acknowledges the new one)',
      ),
    response_status: z.number().int().nullable(),
    duration_ms: z.number().int().nullable(),
    error: z.string().nullable(),
    attempt: z.number().int(),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'WebhookDelivery' });

const deliveryListSchema = z.object({ data: z.array(deliverySchema), next_cursor: z.string().nullable() }).meta({ id: 'WebhookDeliveryList' });

const deliveryId = z.string().regex(/^whd_[0-9a-z]{26}$/, 'not a delivery id');

const listQuerySchema = z
  .object({
    job_id: z.string().max(100).optional(),
    batch_id: z.string().max(100).optional(),
    status: z.enum(DELIVERY_STATUSES).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: deliveryId.optional().describe('`next_cursor` of the previous page'),
  })
  .strict();

const redeliveredSchema = z
  .object({ event_id: z.string(), type: z.enum(WEBHOOK_EVENTS), url: z.string(), status: z.literal('queued') })
  .meta({ id: 'WebhookRedelivery' });

function secretView(info: SecretInfo, held: number) {
  return {
    secret: info.secret,
    created_at: info.createdAt ?? null,
    previous_secret_expires_at: info.previousExpiresAt ?? null,
    lost_secret: info.lost ? { created_at: info.lost.lostCreatedAt ?? null, detected_at: info.lost.detectedAt } : null,
    held_deliveries: held,
  };
}

/** Webhook signing secrets and the delivery log of the caller's tenant. */
export const webhookRoutes: FastifyPluginAsyncZod<{ services: ApiServices }> = async (app, { services }) => {
  const { secrets, store, emitter } = services.webhooks;
  const view = async (tenant: string, info: SecretInfo) => secretView(info, await store.heldCount(tenant));

  app.get('/v1/webhooks/secret', {
    schema: {
      summary: "The tenant's webhook signing secret",
      operationId: 'getWebhookSecret',
      description:
        "Deliveries carry Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`) signed with this secret. One is generated on first use unless configured. When the service's Redis lost the secret, a new one is shown with `lost_secret` set, and signs nothing until acknowledged.",
      response: { 200: secretSchema, ...problems },
    },
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return view(request.tenant, await secrets.current(request.tenant));
    },
  });

  app.post('/v1/webhooks/secret/acknowledge', {
    schema: {
      summary: 'Confirm that receivers hold the current secret',
      operationId: 'acknowledgeWebhookSecret',
      description:
        'After a loss (`lost_secret` set): deliveries are signed with the current secret from now on, and the held ones are sent. Install the secret in your receivers first. Without a loss, nothing changes.',
      response: { 200: secretSchema, ...problems },
    },
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const info = await secrets.acknowledge(request.tenant);
      if (!info.lost) await emitter.releaseHeld(request.tenant);
      return view(request.tenant, info);
    },
  });

  app.post('/v1/webhooks/secret/rotate', {
    schema: {
      summary: 'Make a new webhook signing secret',
      operationId: 'rotateWebhookSecret',
      description:
        'The new secret signs from now on; for 24 h deliveries carry a signature with the previous one too, so receivers can switch without missing events. While `lost_secret` is set, the new secret too waits for `POST /v1/webhooks/secret/acknowledge`.',
      response: { 200: secretSchema, ...problems },
    },
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return view(request.tenant, await secrets.rotate(request.tenant));
    },
  });

  app.get('/v1/webhooks/deliveries', {
    schema: {
      summary: 'Webhook delivery attempts, newest first',
      operationId: 'listWebhookDeliveries',
      description: 'Every attempt of the last 7 days (at most the last 1,000), filtered by job, batch or status.',
      querystring: listQuerySchema,
      response: { 200: deliveryListSchema, ...problems },
    },
    handler: async (request) => {
      const { job_id, batch_id, status, limit, cursor } = request.query;
      const page: { data: DeliveryAttempt[]; next_cursor: string | null } = await store.list(request.tenant, { jobId: job_id, batchId: batch_id, status, limit, cursor });
      return page;
    },
  });

  app.post('/v1/webhooks/deliveries/:id/redeliver', {
    schema: {
      summary: 'Send an event again',
      operationId: 'redeliverWebhook',
      description: 'The event of this delivery is sent again with its original `webhook-id` and body (receivers de-duplicate on the id), freshly signed, with the usual retries; also to a URL that answered 410 before.',
      params: z.object({ id: deliveryId }),
      response: { 202: redeliveredSchema, ...problems },
    },
    handler: async (request, reply) => {
      const attempt = await store.attempt(request.tenant, request.params.id);
      const event = attempt ? await store.event(attempt.event_id) : undefined;
      if (!attempt || !event || event.tenant !== request.tenant) {
        throw new ProblemError('not_found', 'Delivery not found', `There is no delivery ${request.params.id} (deliveries are kept 7 days).`);
      }
      await emitter.redeliver(event);
      return reply.code(202).send({ event_id: event.id, type: event.type, url: event.url, status: 'queued' as const });
    },
  });
};
