/**
 * The requests the service makes (OpenAPI 3.1 `webhooks`): what a receiver registered with
 * `POST /webhooks` gets, so client generators and readers see the body and its signature headers.
 */
export const outgoingWebhooks = {
  organizationEvent: {
    post: {
      operationId: 'receiveOrganizationEvent',
      tags: ['Webhooks'],
      summary: 'An organization event, POSTed to each endpoint subscribed to its type',
      description:
        'Signed per Standard Webhooks: verify the raw body with the endpoint secret and any Standard Webhooks library ' +
        '(`new Webhook(secret).verify(body, headers)`), and drop a `webhook-id` already seen (delivery is at least once). ' +
        'Events of one organization arrive in order (`data.event_id` increases): the next is sent only once this one is answered 2xx or has run out of retries. ' +
        'Any other answer, or none within WEBHOOK_TIMEOUT_MS, is retried with exponential backoff for WEBHOOK_MAX_AGE_MS (24 h).',
      security: [],
      parameters: [
        {
          name: 'webhook-id',
          in: 'header',
          required: true,
          description: 'The message id: the same for every attempt and redelivery of one event.',
          schema: { type: 'string', examples: ['msg_42'] },
        },
        {
          name: 'webhook-timestamp',
          in: 'header',
          required: true,
          description: 'When this attempt was signed, in seconds since the epoch (refuse old ones against replays).',
          schema: { type: 'string', pattern: '^[0-9]+$', examples: ['1764907200'] },
        },
        {
          name: 'webhook-signature',
          in: 'header',
          required: true,
          description: '`v1,<base64 HMAC-SHA256>`, space-separated; two during the 24 hours after a secret rotation (new and old secret).',
          schema: { type: 'string', examples: ['v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4='] },
        },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { $ref: '#/components/schemas/WebhookEvent' },
            example: {
              type: 'organization.active',
              timestamp: '2026-12-05T04:00:01.214Z',
              data: {
                event_id: '42',
                organization: {
                  id: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab',
                  name: 'Acme Corp',
                  slug: 'acme-corp',
                  external_id: 'cus_4f0c2a7e',
                  metadata: { plan: 'enterprise' },
                  status: 'active',
                  step: 'activate',
                  last_error: null,
                  admin_email: 'owner@acme.test',
                  schema_version: 'AddUserLastLogin1732300000000',
                  database_server: 'default',
                  database_role: 'own',
                  deleted_at: null,
                  purge_after: null,
                  created_at: '2026-12-05T04:00:00.512Z',
                  updated_at: '2026-12-05T04:00:01.214Z',
                },
                previous_status: 'provisioning',
                request_id: '0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980',
              },
            },
          },
        },
      },
      responses: {
        '2XX': { description: 'Received: the delivery is done.' },
        '4XX': { description: 'Not accepted: retried like any failure (as are 3XX, 5XX and no answer in time).' },
      },
    },
  },
};
