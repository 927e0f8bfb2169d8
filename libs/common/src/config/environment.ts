import 'dotenv/config';
import Joi from 'joi';
import proxyAddr from 'proxy-addr';
import { LOOKS_LIKE_CLUSTER_URL, parseRedisClusterUrl } from '../queues/redis-url';
import { newPasswordSchema } from '../sign-in/password-policy';

export class ConfigError extends Error {}

/** Prefixes become part of SQL identifiers and Redis keys, so only a safe alphabet is allowed. */
const identifierPrefix = Joi.string().pattern(/^[a-z][a-z0-9_]{0,19}$/);

/**
 * Every environment variable the service reads, with its default. The README's "Configuration"
 * table and `.env.example` list exactly these, with the same defaults (a unit spec compares them).
 */
export const environmentSchema = Joi.object({
  NODE_ENV: Joi.string().valid('development', 'production', 'test').default('development'),
  PORT: Joi.number().port().default(3000),
  DATABASE_URL: Joi.string()
    .uri({ scheme: ['postgres', 'postgresql'] })
    .default('postgres://postgres@127.0.0.1:5432/orgms_control'),
  ORG_DATABASE_URL: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }),
  ORG_DATABASE_PREFIX: identifierPrefix.default('org_'),
  // One Redis (redis://, rediss://) or a Redis Cluster by its nodes (redis+cluster://host:port,host:port).
  REDIS_URL: Joi.alternatives()
    .conditional(Joi.string().pattern(LOOKS_LIKE_CLUSTER_URL), {
      // biome-ignore lint/suspicious/noThenProperty: joi's conditional schema, not a thenable
      then: Joi.string()
        .custom((url: string) => parseRedisClusterUrl(url) && url)
        .messages({ 'any.custom': '{{#label}} must be redis+cluster://host:port,host:port (rediss+cluster:// for TLS): {{#error.message}}' }),
      otherwise: Joi.string().uri({ scheme: ['redis', 'rediss'] }),
    })
    .default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,40}$/)
    .default('orgms'),
  JWT_SECRET: Joi.string().min(32),
  // Keys of a rotation, `key,key`: they still verify the tokens they signed but never sign. The
  // message names no key, so a refused one is not printed to the log.
  JWT_PREVIOUS_SECRETS: Joi.string()
    .custom((raw: string) => {
      if (raw.split(',').some((key) => key.length < 32)) throw new Error('each key must be at least 32 characters');
      return raw;
    })
    .messages({ 'any.custom': '{{#label}}: {{#error.message}}' }),
  JWT_EXPIRES_IN: Joi.string()
    .pattern(/^\d+[smhd]?$/)
    .default('15m'),
  REFRESH_TOKEN_TTL: Joi.string()
    .pattern(/^\d+[smhd]?$/)
    .default('30d'),
  JWT_ISSUER: Joi.string().default('orgms'),
  JWT_AUDIENCE: Joi.string().default('orgms-api'),
  BOOTSTRAP_ADMIN_EMAIL: Joi.string().email({ tlds: false }),
  BOOTSTRAP_ADMIN_PASSWORD: newPasswordSchema,
  ALLOW_SELF_SIGNUP: Joi.boolean().default(false),
  BCRYPT_ROUNDS: Joi.number().integer().min(4).max(15).default(12),
  WORKER_CONCURRENCY: Joi.number().integer().min(1).max(64).default(4),
  // A dead worker's jobs return within lock + stalled interval (15 s); the price is a lock renewal
  // per running job every 5 s, and a job that blocks its event loop for 10 s counts as stalled and
  // runs again (every job is idempotent, so that only costs time).
  WORKER_LOCK_DURATION_MS: Joi.number().integer().min(1000).default(10000),
  WORKER_STALLED_INTERVAL_MS: Joi.number().integer().min(1000).default(5000),
  WORKER_METRICS_PORT: Joi.number().port().default(9464),
  PROVISION_ATTEMPTS: Joi.number().integer().min(1).max(20).default(5),
  PROVISION_BACKOFF_MS: Joi.number().integer().min(0).default(2000),
  RECONCILE_INTERVAL_MS: Joi.number().integer().min(100).default(30000),
  RECONCILE_STUCK_AFTER_MS: Joi.number().integer().min(0).default(60000),
  // The orphan search reads every server's database list, and what it finds waits for an operator anyway.
  RECONCILE_ORPHANS_INTERVAL_MS: Joi.number().integer().min(100).default(300000),
  ORG_TEMPLATE_ENABLED: Joi.boolean().default(true),
  MIGRATION_CONCURRENCY: Joi.number().integer().min(1).max(64).default(2),
  MIGRATION_ATTEMPTS: Joi.number().integer().min(1).max(20).default(3),
  // The same first delay as provisioning's, which fleet migrations used before they had their own.
  MIGRATION_BACKOFF_MS: Joi.number().integer().min(0).default(2000),
  TENANT_POOL_SIZE: Joi.number().integer().min(1).max(20).default(2),
  // Well under PostgreSQL's default max_connections (100), leaving room for the control pool and workers.
  TENANT_CONNECTION_BUDGET: Joi.number().integer().min(1).max(10000).default(40),
  TENANT_POOL_IDLE_MS: Joi.number().integer().min(100).default(60000),
  TENANT_ACQUIRE_TIMEOUT_MS: Joi.number().integer().min(1).default(5000),
  LOGIN_RATE_LIMIT_WINDOW_MS: Joi.number().integer().min(1000).default(900000),
  LOGIN_RATE_LIMIT_PER_IP: Joi.number().integer().min(1).default(100),
  LOGIN_RATE_LIMIT_PER_ACCOUNT: Joi.number().integer().min(1).default(10),
  SIGNUP_RATE_LIMIT_WINDOW_MS: Joi.number().integer().min(1000).default(3600000),
  SIGNUP_RATE_LIMIT_PER_IP: Joi.number().integer().min(1).default(10),
  TRUST_PROXY: Joi.string()
    .trim()
    .pattern(/^(false|true|\d{1,2}|[0-9A-Za-z.:/_,\s-]+)$/)
    .default('false'),
  PUBLIC_URL: Joi.string().uri({ scheme: ['http', 'https'] }),
  METRICS_TOKEN: Joi.string().min(16),
  WORKER_METRICS_HOST: Joi.string().hostname().default('127.0.0.1'),
  // 32 bytes, base64 or hex; encrypts database server credentials at rest (required in production).
  SECRETS_KEY: Joi.string().pattern(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/),
  SECRETS_KEY_ID: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,32}$/)
    .default('primary'),
  // Older keys, `id:key,id:key`, that still open values sealed before a rotation.
  SECRETS_PREVIOUS_KEYS: Joi.string().pattern(/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=]+(,[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=]+)*$/),
  DEFAULT_SERVER_CAPACITY: Joi.number().integer().min(0).default(1000),
  PGBOUNCER_DATABASES_FILE: Joi.string(),
  PGBOUNCER_ADMIN_URL: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }),
  MOVE_SESSION_GRACE_MS: Joi.number().integer().min(0).default(5000),
  // Where organization exports (pg_dump -Fc files) are written; relative paths are resolved against the working directory.
  EXPORT_DIR: Joi.string().default('./var/exports'),
  EXPORT_TTL_MS: Joi.number().integer().min(1).default(86400000),
  // Where a purge writes the archive (pg_dump -Fc) of a deleted organization before it drops its database.
  ARCHIVE_DIR: Joi.string().default('./var/archives'),
  ORG_DELETE_GRACE_MS: Joi.number().integer().min(0).default(604800000),
  // 0 keeps every audit entry forever.
  AUDIT_RETENTION_DAYS: Joi.number().integer().min(0).default(365),
  // Webhooks: private and loopback targets are refused unless this is true (tests, a private network); metadata and link-local ones always are.
  WEBHOOK_ALLOW_PRIVATE: Joi.boolean().default(false),
  WEBHOOK_TIMEOUT_MS: Joi.number().integer().min(100).default(10000),
  // A failed delivery is retried after this, doubled at each attempt (at most an hour apart), until WEBHOOK_MAX_AGE_MS.
  WEBHOOK_RETRY_BASE_MS: Joi.number().integer().min(10).default(5000),
  WEBHOOK_MAX_AGE_MS: Joi.number().integer().min(100).default(86400000),
  WEBHOOK_CONCURRENCY: Joi.number().integer().min(1).max(256).default(16),
  WEBHOOK_SWEEP_INTERVAL_MS: Joi.number().integer().min(100).default(10000),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(100).default(10000),
  BODY_LIMIT: Joi.string().default('100kb'),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly').default('info'),
})
  .and('BOOTSTRAP_ADMIN_EMAIL', 'BOOTSTRAP_ADMIN_PASSWORD')
  .unknown(true);

/**
 * The environment validated and converted, defaults filled in (joi's output is untyped; config.ts
 * turns it into the typed sections). Throws a ConfigError naming every bad variable.
 */
// biome-ignore lint/suspicious/noExplicitAny: joi's validated output has no static type; config.ts reads it field by field
export function readEnvironment(env: NodeJS.ProcessEnv): Record<string, any> {
  // An empty variable (`FOO=` in .env or compose) means "not set", so its default applies.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const { value, error } = environmentSchema.validate(present, { abortEarly: false, convert: true });
  if (error) {
    throw new ConfigError(`Invalid configuration: ${error.details.map((d) => d.message).join('; ')}`);
  }
  if (value.NODE_ENV === 'production' && !value.JWT_SECRET) {
    throw new ConfigError('Invalid configuration: JWT_SECRET is required when NODE_ENV=production');
  }
  if (value.NODE_ENV === 'production' && !value.SECRETS_KEY) {
    throw new ConfigError('Invalid configuration: SECRETS_KEY is required when NODE_ENV=production');
  }
  if (Boolean(value.PGBOUNCER_DATABASES_FILE) !== Boolean(value.PGBOUNCER_ADMIN_URL)) {
    throw new ConfigError('Invalid configuration: PGBOUNCER_DATABASES_FILE and PGBOUNCER_ADMIN_URL go together');
  }
  if (value.TENANT_CONNECTION_BUDGET < value.TENANT_POOL_SIZE) {
    throw new ConfigError('Invalid configuration: TENANT_CONNECTION_BUDGET must be at least TENANT_POOL_SIZE');
  }
  return value;
}

/**
 * `TRUST_PROXY` in Express's own syntax. `true` (trust every hop) is refused: any client could
 * then choose its own address for the login limits by sending X-Forwarded-For.
 */
export function parseTrustProxy(raw: string): boolean | number | string[] {
  if (raw === 'false') return false;
  if (raw === 'true') throw new ConfigError("Invalid configuration: TRUST_PROXY=true would trust any client; give a hop count or the proxies' addresses");
  if (/^\d+$/.test(raw)) return Number(raw);
  const list = raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  try {
    proxyAddr.compile(list); // what Express does with it: refuses what is not an address, CIDR or known name
  } catch (error) {
    throw new ConfigError(`Invalid configuration: TRUST_PROXY: ${(error as Error).message}`);
  }
  return list;
}
