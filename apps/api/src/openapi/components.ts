/**
 * Shared OpenAPI components: schemas, error responses and security schemes. Route files
 * reference them from their `@openapi` blocks (`$ref: '#/components/...'`).
 */
const problem = {
  type: 'object',
  description: 'RFC 9457 problem details. Never contains stack traces, SQL or driver messages.',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri', example: 'https://orgms.dev/problems/not-found' },
    title: { type: 'string', example: 'Not found' },
    status: { type: 'integer', example: 404 },
    detail: { type: 'string', example: 'Organization 4f0c2a7e-9d1b-4c1e-8f00-1234567890ab does not exist.' },
    requestId: {
      type: 'string',
      description: 'Quote it when reporting a problem; it is in every log line of the request.',
      example: '0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980',
    },
  },
};

function problemResponse(description: string, status: number, code: string, title: string, detail: string) {
  return {
    description,
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        example: { type: `https://orgms.dev/problems/${code}`, title, status, detail, requestId: '0b8a5f0e-6c1d-4b7a-9f2e-3d4c5b6a7980' },
      },
    },
  };
}

export const components = {
  securitySchemes: {
    bearerAuth: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'A token from `POST /auth/login` (platform admin) or `POST /admin/login` (organization user).',
    },
    basicAuth: { type: 'http', scheme: 'basic', description: 'A platform admin email and password (operator pages only).' },
    metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when the deployment sets one (`/metrics` only).' },
  },
  schemas: {
    Problem: problem,
    ValidationProblem: {
      allOf: [
        { $ref: '#/components/schemas/Problem' },
        {
          type: 'object',
          properties: {
            errors: {
              type: 'array',
              items: {
                type: 'object',
                required: ['field', 'message'],
                properties: { field: { type: 'string', example: 'body.password' }, message: { type: 'string' } },
              },
            },
          },
        },
      ],
    },
    OrganizationStatusName: { type: 'string', enum: ['pending', 'provisioning', 'active', 'failed', 'deleting', 'deleted'] },
    Organization: {
      type: 'object',
      required: ['id', 'name', 'slug', 'status', 'admin_email', 'created_at', 'updated_at'],
      properties: {
        id: { type: 'string', format: 'uuid', example: '4f0c2a7e-9d1b-4c1e-8f00-1234567890ab' },
        name: { type: 'string', example: 'Acme Corp' },
        slug: { type: 'string', example: 'acme-corp' },
        status: { $ref: '#/components/schemas/OrganizationStatusName' },
        step: { type: ['string', 'null'], description: 'The provisioning step running or last run.', example: 'activate' },
        last_error: { type: ['string', 'null'], description: 'Why the last attempt failed, in plain words.', example: null },
        admin_email: { type: 'string', format: 'email', example: 'owner@acme.test' },
        schema_version: { type: ['string', 'null'], description: 'Newest tenant migration applied to its database.', example: 'CreateUsers1732200000000' },
        created_at: { type: 'string', format: 'date-time' },
        updated_at: { type: 'string', format: 'date-time' },
      },
    },
    OrganizationStatus: {
      type: 'object',
      required: ['id', 'status', 'attempts', 'updated_at'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        status: { $ref: '#/components/schemas/OrganizationStatusName' },
        step: { type: ['string', 'null'], example: 'migrate' },
        attempts: { type: 'integer', example: 1 },
        last_error: { type: ['string', 'null'], example: null },
        updated_at: { type: 'string', format: 'date-time' },
      },
    },
    OrganizationList: {
      type: 'object',
      required: ['items', 'next_cursor'],
      properties: {
        items: { type: 'array', items: { $ref: '#/components/schemas/Organization' } },
        next_cursor: { type: ['string', 'null'], description: 'Pass as `cursor` for the next page; null on the last page.' },
      },
    },
    Credentials: {
      type: 'object',
      required: ['email', 'password'],
      additionalProperties: false,
      properties: {
        email: { type: 'string', format: 'email', example: 'admin@example.com' },
        password: { type: 'string', minLength: 8, example: 'change-me-please' },
      },
    },
    Token: {
      type: 'object',
      required: ['access_token', 'token_type', 'expires_in', 'user'],
      properties: {
        access_token: { type: 'string', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…' },
        token_type: { type: 'string', enum: ['bearer'] },
        expires_in: { type: 'integer', description: 'Seconds until the token expires.', example: 3600 },
        user: { type: 'object', additionalProperties: true, example: { id: '5e1d…', email: 'admin@example.com', role: 'platform_admin' } },
      },
    },
  },
  responses: {
    BadRequest: problemResponse(
      'The request is invalid (malformed JSON, a wrong type, an unknown field, a bad parameter). Nothing was changed.',
      400,
      'validation-error',
      'Your request is not valid',
      'body.password: password length must be at least 8 characters long',
    ),
    Unauthorized: problemResponse(
      'No token, or the token is invalid, expired or for another audience.',
      401,
      'unauthorized',
      'Unauthorized',
      'A valid bearer token is required.',
    ),
    Forbidden: problemResponse(
      'The token is valid but its role or organization may not do this.',
      403,
      'forbidden',
      'Forbidden',
      'You are not allowed to do this.',
    ),
    NotFound: problemResponse(
      'No such resource (or not visible to this token).',
      404,
      'not-found',
      'Not found',
      'Organization 4f0c2a7e-9d1b-4c1e-8f00-1234567890ab does not exist.',
    ),
    Conflict: problemResponse(
      'The request conflicts with the current state (a taken name, an illegal status change).',
      409,
      'conflict',
      'Conflict',
      'An organization named "Acme Corp" (or a name that looks the same) already exists.',
    ),
    PayloadTooLarge: problemResponse(
      'The body is larger than BODY_LIMIT.',
      413,
      'payload-too-large',
      'Payload too large',
      'The request body is larger than the server accepts.',
    ),
    UnsupportedMediaType: problemResponse(
      'The body is not application/json.',
      415,
      'unsupported-media-type',
      'Unsupported media type',
      'Send the request body as application/json.',
    ),
    TooManyRequests: problemResponse(
      'Too many attempts; wait for the number of seconds in Retry-After.',
      429,
      'too-many-requests',
      'Too many requests',
      'Too many login attempts; try again later.',
    ),
    ServiceUnavailable: problemResponse(
      'A backing service (PostgreSQL, Redis) is unavailable; retry shortly.',
      503,
      'service-unavailable',
      'Service unavailable',
      'The database is unavailable; try again shortly.',
    ),
  },
};
