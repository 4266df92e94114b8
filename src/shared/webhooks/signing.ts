import { Webhook } from 'standardwebhooks';

/**
 * The Standard Webhooks headers of one delivery attempt. The signature is
 * made by the `standardwebhooks` package (`v1,<base64 HMAC-SHA256 of
 * id.timestamp.body>`), one `sign` call per secret; during a rotation the
 * header holds both signatures separated by a space, which `Webhook.verify`
 * accepts with either secret. The timestamp is the attempt's, in whole
 * seconds, and is what gets signed.
 */
export function webhookHeaders(eventId: string, body: string, secrets: readonly string[], at: Date = new Date()): Record<string, string> {
  const seconds = Math.floor(at.getTime() / 1000);
  const timestamp = new Date(seconds * 1000);
  const signature = secrets.map((secret) => new Webhook(secret).sign(eventId, timestamp, body)).join(' ');
  return {
    'content-type': 'application/json',
    'user-agent': 'i2v-webhooks/1',
    'webhook-id': eventId,
    'webhook-timestamp': String(seconds),
    'webhook-signature': signature,
  };
}
