import { randomBytes } from 'node:crypto';
import 'dotenv/config';
import Joi from 'joi';
import proxyAddr from 'proxy-addr';

/**
 * Every setting of the service, validated once at boot. Each key is documented in the README
 * (section "Configuration") with the same default as below; keep the two in step.
 */
export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  databaseUrl: string;
  orgDatabaseUrl: string;
  orgDatabasePrefix: string;
  redisUrl: string;
  queuePrefix: string;
  jwtSecret: string;
  jwtExpiresIn: string;
  jwtIssuer: string;
  jwtAudience: string;
  bootstrapAdminEmail?: string;
  bootstrapAdminPassword?: string;
  allowSelfSignup: boolean;
  bcryptRounds: number;
  workerConcurrency: number;
  workerLockDurationMs: number;
  workerMetricsPort: number;
  workerStalledIntervalMs: number;
  provisionAttempts: number;
  provisionBackoffMs: number;
  reconcileIntervalMs: number;
  reconcileStuckAfterMs: number;
  /** Create org databases by cloning `<prefix>template` (DESIGN §8); false forces the slow path. */
  orgTemplateEnabled: boolean;
  migrationConcurrency: number;
  migrationAttempts: number;
  shutdownTimeoutMs: number;
  bodyLimit: string;
  logLevel: string;
  /** The API's tenant connection manager (apps/api/src/tenancy/connection-manager.ts). */
  tenantPoolSize: number;
  tenantConnectionBudget: number;
  tenantPoolIdleMs: number;
  tenantAcquireTimeoutMs: number;
  /** Login throttling: per client IP (all attempts) and per account (failed attempts). */
  loginRateLimitWindowMs: number;
  loginRateLimitPerIp: number;
  loginRateLimitPerAccount: number;
  /**
   * Express's `trust proxy` setting: `false` (default: the peer's address is the client's, and
   * X-Forwarded-* headers are ignored), a hop count, or a list of addresses/CIDRs/names.
   */
  trustProxy: boolean | number | string[];
  /** The URL clients use to reach the API; an https one turns on HSTS and upgrade-insecure-requests. */
  publicUrl?: string;
  /** When set, the API's `/metrics` answers only `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** Interface the worker's metrics/health port listens on. */
  workerMetricsHost: string;
}

/** Prefixes become part of SQL identifiers and Redis keys, so only a safe alphabet is allowed. */
const identifierPrefix = Joi.string().pattern(/^[a-z][a-z0-9_]{0,19}$/);

const schema = Joi.object({
  NODE_ENV: Joi.string().valid('development', 'production', 'test').default('development'),
  PORT: Joi.number().port().default(3000),
  DATABASE_URL: Joi.string()
    .uri({ scheme: ['postgres', 'postgresql'] })
    .default('postgres://postgres@127.0.0.1:5432/orgms_control'),
  ORG_DATABASE_URL: Joi.string().uri({ scheme: ['postgres', 'postgresql'] }),
  ORG_DATABASE_PREFIX: identifierPrefix.default('org_'),
  REDIS_URL: Joi.string()
    .uri({ scheme: ['redis', 'rediss'] })
    .default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,40}$/)
    .default('orgms'),
  JWT_SECRET: Joi.string().min(32),
  JWT_EXPIRES_IN: Joi.string()
    .pattern(/^\d+[smhd]?$/)
    .default('1h'),
  JWT_ISSUER: Joi.string().default('orgms'),
  JWT_AUDIENCE: Joi.string().default('orgms-api'),
  BOOTSTRAP_ADMIN_EMAIL: Joi.string().email({ tlds: false }),
  BOOTSTRAP_ADMIN_PASSWORD: Joi.string().min(8).max(72),
  ALLOW_SELF_SIGNUP: Joi.boolean().default(false),
  BCRYPT_ROUNDS: Joi.number().integer().min(4).max(15).default(12),
  WORKER_CONCURRENCY: Joi.number().integer().min(1).max(64).default(4),
  WORKER_LOCK_DURATION_MS: Joi.number().integer().min(1000).default(30000),
  WORKER_METRICS_PORT: Joi.number().port().default(9464),
  WORKER_STALLED_INTERVAL_MS: Joi.number().integer().min(1000).default(30000),
  PROVISION_ATTEMPTS: Joi.number().integer().min(1).max(20).default(5),
  PROVISION_BACKOFF_MS: Joi.number().integer().min(0).default(2000),
  RECONCILE_INTERVAL_MS: Joi.number().integer().min(100).default(30000),
  RECONCILE_STUCK_AFTER_MS: Joi.number().integer().min(0).default(60000),
  ORG_TEMPLATE_ENABLED: Joi.boolean().default(true),
  MIGRATION_CONCURRENCY: Joi.number().integer().min(1).max(64).default(2),
  MIGRATION_ATTEMPTS: Joi.number().integer().min(1).max(20).default(3),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(100).default(10000),
  BODY_LIMIT: Joi.string().default('100kb'),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly').default('info'),
  TENANT_POOL_SIZE: Joi.number().integer().min(1).max(20).default(2),
  // Well under PostgreSQL's default max_connections (100), leaving room for the control pool and workers.
  TENANT_CONNECTION_BUDGET: Joi.number().integer().min(1).max(10000).default(40),
  TENANT_POOL_IDLE_MS: Joi.number().integer().min(100).default(60000),
  TENANT_ACQUIRE_TIMEOUT_MS: Joi.number().integer().min(1).default(5000),
  LOGIN_RATE_LIMIT_WINDOW_MS: Joi.number().integer().min(1000).default(900000),
  LOGIN_RATE_LIMIT_PER_IP: Joi.number().integer().min(1).default(100),
  LOGIN_RATE_LIMIT_PER_ACCOUNT: Joi.number().integer().min(1).default(10),
  TRUST_PROXY: Joi.string()
    .trim()
    .pattern(/^(false|true|\d{1,2}|[0-9A-Za-z.:/_,\s-]+)$/)
    .default('false'),
  PUBLIC_URL: Joi.string().uri({ scheme: ['http', 'https'] }),
  METRICS_TOKEN: Joi.string().min(16),
  WORKER_METRICS_HOST: Joi.string().hostname().default('127.0.0.1'),
})
  .and('BOOTSTRAP_ADMIN_EMAIL', 'BOOTSTRAP_ADMIN_PASSWORD')
  .unknown(true);

export class ConfigError extends Error {}

/** Builds the config from the environment (and `.env`); throws a readable ConfigError when invalid. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`FOO=` in .env or compose) means "not set", so its default applies.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const { value, error } = schema.validate(present, { abortEarly: false, convert: true });
  if (error) {
    throw new ConfigError(`Invalid configuration: ${error.details.map((d) => d.message).join('; ')}`);
  }
  if (value.NODE_ENV === 'production' && !value.JWT_SECRET) {
    throw new ConfigError('Invalid configuration: JWT_SECRET is required when NODE_ENV=production');
  }
  if (value.TENANT_CONNECTION_BUDGET < value.TENANT_POOL_SIZE) {
    throw new ConfigError('Invalid configuration: TENANT_CONNECTION_BUDGET must be at least TENANT_POOL_SIZE');
  }
  return Object.freeze({
    nodeEnv: value.NODE_ENV,
    port: value.PORT,
    databaseUrl: value.DATABASE_URL,
    // Org databases live on the control database's server unless told otherwise.
    orgDatabaseUrl: value.ORG_DATABASE_URL ?? serverOf(value.DATABASE_URL),
    orgDatabasePrefix: value.ORG_DATABASE_PREFIX,
    redisUrl: value.REDIS_URL,
    queuePrefix: value.QUEUE_PREFIX,
    // A random secret in development keeps a missing env var from becoming a guessable key;
    // tokens then simply stop working after a restart.
    jwtSecret: value.JWT_SECRET ?? randomBytes(32).toString('hex'),
    jwtExpiresIn: value.JWT_EXPIRES_IN,
    jwtIssuer: value.JWT_ISSUER,
    jwtAudience: value.JWT_AUDIENCE,
    bootstrapAdminEmail: value.BOOTSTRAP_ADMIN_EMAIL,
    bootstrapAdminPassword: value.BOOTSTRAP_ADMIN_PASSWORD,
    allowSelfSignup: value.ALLOW_SELF_SIGNUP,
    bcryptRounds: value.BCRYPT_ROUNDS,
    workerConcurrency: value.WORKER_CONCURRENCY,
    workerLockDurationMs: value.WORKER_LOCK_DURATION_MS,
    workerMetricsPort: value.WORKER_METRICS_PORT,
    workerStalledIntervalMs: value.WORKER_STALLED_INTERVAL_MS,
    provisionAttempts: value.PROVISION_ATTEMPTS,
    provisionBackoffMs: value.PROVISION_BACKOFF_MS,
    reconcileIntervalMs: value.RECONCILE_INTERVAL_MS,
    reconcileStuckAfterMs: value.RECONCILE_STUCK_AFTER_MS,
    orgTemplateEnabled: value.ORG_TEMPLATE_ENABLED,
    migrationConcurrency: value.MIGRATION_CONCURRENCY,
    migrationAttempts: value.MIGRATION_ATTEMPTS,
    shutdownTimeoutMs: value.SHUTDOWN_TIMEOUT_MS,
    bodyLimit: value.BODY_LIMIT,
    logLevel: value.LOG_LEVEL,
    tenantPoolSize: value.TENANT_POOL_SIZE,
    tenantConnectionBudget: value.TENANT_CONNECTION_BUDGET,
    tenantPoolIdleMs: value.TENANT_POOL_IDLE_MS,
    tenantAcquireTimeoutMs: value.TENANT_ACQUIRE_TIMEOUT_MS,
    loginRateLimitWindowMs: value.LOGIN_RATE_LIMIT_WINDOW_MS,
    loginRateLimitPerIp: value.LOGIN_RATE_LIMIT_PER_IP,
    loginRateLimitPerAccount: value.LOGIN_RATE_LIMIT_PER_ACCOUNT,
    trustProxy: parseTrustProxy(value.TRUST_PROXY),
    publicUrl: value.PUBLIC_URL,
    metricsToken: value.METRICS_TOKEN,
    workerMetricsHost: value.WORKER_METRICS_HOST,
  });
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

/** For process entry points: prints a readable configuration error and exits instead of a stack trace. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}

/** `postgres://u@h:5432/db?x` → `postgres://u@h:5432/postgres?x`: the server's maintenance database. */
export function serverOf(databaseUrl: string): string {
  return withDatabase(databaseUrl, 'postgres');
}

/** The same server and role as `url`, pointed at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** The database name a connection URL points at. */
export function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}
