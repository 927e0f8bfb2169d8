import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { ConfigError, parseTrustProxy, readEnvironment } from './config/environment';
import { serverOf } from './database/database-urls';
import { queuePrefixFor } from './queues/redis-url';
import { parseSecretKey, type SecretKey } from './secret-box';

/**
 * Every setting of the service, validated once at boot (config/environment.ts holds the
 * variables and their defaults, which the README's "Configuration" table documents), in sections:
 * each part of the service is handed the section, or the part of it, that it uses.
 */
export interface Config {
  runtime: RuntimeConfig;
  /** The control database. */
  database: DatabaseConfig;
  /** The organization databases: where they live, how they are made, the API's pools on them. */
  tenancy: TenancyConfig;
  queue: QueueConfig;
  auth: AuthConfig;
  worker: WorkerConfig;
  /** The API's HTTP surface, its operator pages included. */
  http: HttpConfig;
  /** Keys that encrypt secrets at rest (database server credentials). */
  secrets: SecretsConfig;
  /** Organization exports: where their files are written (worker) and read (API), and how long they are kept. */
  exports: ExportsConfig;
  /** Deleted organizations: how long their database is kept, and where purges archive it. */
  archives: ArchivesConfig;
  /** Backups of every active organization: schedule, retention, and where their files are. */
  backups: BackupsConfig;
  /** Signed webhooks: which targets are allowed, and how deliveries are timed and retried (worker). */
  webhooks: WebhooksConfig;
  /** AUDIT_RETENTION_DAYS: the audit-retention sweep deletes audit entries older than this; 0 keeps them forever. */
  auditRetentionDays: number;
  /** What one organization may use: request rates, its database role's limits, quotas; and the tenant-work queue. */
  limits: LimitsConfig;
}

/** The defaults of every organization's limits (overridden per organization: libs/common/src/limits/). */
export interface LimitsConfig {
  /** RATE_LIMITS_ENABLED: whether request rates are counted and limited at all. */
  requestRatesEnabled: boolean;
  /** RATE_LIMIT_WINDOW_MS: the window every request-rate limit counts in. */
  windowMs: number;
  /** Requests per window of one organization's users, by class. */
  organization: RequestRates;
  /** Requests per window of one platform admin, by class. */
  platformAdmin: RequestRates;
  /** Each API replica's fair admission of the requests it serves at once. */
  admission: AdmissionConfig;
  /** Each organization's database role. */
  database: DatabaseLimits;
  quotas: Quotas;
  /** QUOTA_SWEEP_INTERVAL_MS: how often database sizes are sampled. */
  quotaSweepIntervalMs: number;
  /** TENANT_WORK_CONCURRENCY: tenant-triggered jobs at once per worker process. */
  tenantWorkConcurrency: number;
  /** EXPORT_DISK_LIMIT_BYTES: the ready exports' files together. */
  exportDiskLimitBytes: number;
}

/** How many requests one API replica serves at once, and how long the others wait (apps/api/src/limits/fair-admission.ts). */
export interface AdmissionConfig {
  /** ADMISSION_CONCURRENCY: every lane together. */
  concurrency: number;
  /** ADMISSION_ORGANIZATION_CONCURRENCY: one organization, one platform admin, or the unauthenticated. */
  perLane: number;
  /** ADMISSION_ORGANIZATION_QUEUE: waiting requests of one lane. */
  queuePerLane: number;
  /** ADMISSION_MAX_WAIT_MS */
  maxWaitMs: number;
}

/** Requests per window by class: reads (GET), writes (POST/PATCH/DELETE), expensive (exports, moves, restores, backups). */
export interface RequestRates {
  reads: number;
  writes: number;
  expensive: number;
}

export interface DatabaseLimits {
  connectionLimit: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  /** -1: none. */
  tempFileLimitKb: number;
}

export interface Quotas {
  users: number;
  databaseBytes: number;
}

export interface WebhooksConfig {
  /** WEBHOOK_ALLOW_PRIVATE: private and loopback targets are allowed (refused by default); cloud metadata and link-local ones never are. */
  allowPrivate: boolean;
  /** One attempt's time limit, connection to last byte. */
  timeoutMs: number;
  /** The first retry's delay, doubled at each attempt (at most an hour apart). */
  retryBaseMs: number;
  /** A delivery is retried until it is this old; then it fails and its endpoint is marked `failing`. */
  maxAgeMs: number;
  /** Lanes (endpoint × organization) delivered at once per worker process. */
  concurrency: number;
  /** How often the worker looks for deliveries that no notification announced (a worker was down). */
  sweepIntervalMs: number;
}

export interface ArchivesConfig {
  /** ARCHIVE_DIR, absolute; created by the worker when missing. */
  dir: string;
  /** ORG_DELETE_GRACE_MS: a deleted organization can be restored this long; then it is archived and purged. */
  deleteGraceMs: number;
}

export interface ExportsConfig {
  /** EXPORT_DIR, absolute; created by the worker when missing. */
  dir: string;
  /** EXPORT_TTL_MS: an export expires this long after it is ready; its file is then deleted. */
  ttlMs: number;
}

export interface BackupsConfig {
  /** BACKUP_DIR, absolute; created by the worker when missing. */
  dir: string;
  /** BACKUP_INTERVAL (ms): each active organization is backed up once per interval. */
  intervalMs: number;
  /** BACKUP_CONCURRENCY: scheduled backups queued or running at once per database server. */
  concurrencyPerServer: number;
  /** BACKUP_KEEP_DAILY and BACKUP_KEEP_WEEKLY: the scheduled backups retention keeps. */
  keepDaily: number;
  keepWeekly: number;
  /** BACKUP_MANUAL_TTL (ms): a manual or pre-restore backup expires this long after it is verified. */
  manualTtlMs: number;
}

export interface SecretsConfig {
  current: SecretKey;
  /** Keys of earlier rotations: they open old values, which are then sealed again with `current`. */
  previous: SecretKey[];
}

export interface RuntimeConfig {
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: string;
  /** Time limit of each process's ordered graceful shutdown. */
  shutdownTimeoutMs: number;
}

export interface DatabaseConfig {
  /** DATABASE_URL: created if missing, migrated at every start. */
  url: string;
  timeouts: DatabaseTimeouts;
}

/** How long a request waits on PostgreSQL (DATABASE_CONNECT_TIMEOUT_MS, DATABASE_QUERY_TIMEOUT_MS; 0: no query limit). */
export interface DatabaseTimeouts {
  connectMs: number;
  queryMs: number;
}

/** How long the service waits on Redis (REDIS_CONNECT_TIMEOUT_MS, REDIS_COMMAND_TIMEOUT_MS). */
export interface RedisTimeouts {
  connectMs: number;
  commandMs: number;
}

export interface TenancyConfig {
  /**
   * ORG_DATABASE_URL: the server and role organization databases are created on when the
   * fleet is empty; registered at start as the `default` database server.
   */
  serverUrl: string;
  /** ORG_DATABASE_PREFIX: of every organization database's name (and of the template's). */
  databasePrefix: string;
  /** Create organization databases by cloning `<prefix>template` (docs/architecture.md, "Template fast path"); false forces the slow path. */
  templateEnabled: boolean;
  /** SPARE_DATABASES: spares each active server keeps ready (apps/worker/src/tenancy/spare-databases.ts); 0 disables them. */
  spareDatabases: number;
  /** The API's tenant connection manager (apps/api/src/tenancy/connection-manager.ts). */
  pools: TenantPoolsConfig;
  fleet: FleetConfig;
}

export interface FleetConfig {
  /** Organizations the `default` server takes when it is registered at start. */
  defaultServerCapacity: number;
  /**
   * A PgBouncer shared by several servers knows each organization database by an entry of its
   * own: the worker writes them to `databasesFile` (which pgbouncer.ini `%include`s) and sends
   * RELOAD to `adminUrl`. Unset when each server's PgBouncer has its own `*` fallback.
   */
  pgbouncer?: { databasesFile: string; adminUrl: string };
  /** During a move, how long sessions opened before writes stopped may finish before they are ended. */
  moveSessionGraceMs: number;
}

export interface TenantPoolsConfig {
  /** Connections per organization pool. */
  size: number;
  /** The `default` server's connection budget when it is registered at start (each server has its own). */
  budget: number;
  idleMs: number;
  acquireTimeoutMs: number;
  /** The same bounds as the control database's (DATABASE_*_TIMEOUT_MS). */
  timeouts: DatabaseTimeouts;
}

export interface QueueConfig {
  redisUrl: string;
  timeouts: RedisTimeouts;
  /** BullMQ key prefix, also of the status channel and the rate-limit keys. */
  prefix: string;
  /** How the jobs of each queue are retried: attempts, and the first delay, doubled at each retry. */
  retry: {
    provisioning: RetryPolicy;
    migrations: RetryPolicy;
  };
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

export interface AuthConfig {
  jwt: JwtConfig;
  /** Lifetime of each refresh token (REFRESH_TOKEN_TTL, `30d` style); every refresh issues a new one. */
  refreshTokenTtl: string;
  bcryptRounds: number;
  /** Created at start if absent (BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD, both or neither). */
  bootstrapAdmin?: { email: string; password: string };
  /** Anyone, without a token, may create an organization. */
  allowSelfSignup: boolean;
  /** Per client IP (every attempt) and per account (failed attempts), per window. */
  loginThrottle: { windowMs: number; perIp: number; perAccount: number };
  /** Organizations created without a platform admin's token (self-signup), per client IP per window. */
  signupThrottle: { windowMs: number; perIp: number };
}

export interface JwtConfig {
  /** Signs every token and verifies them. */
  secret: string;
  /** Verify the tokens they signed before a rotation, never sign (JWT_PREVIOUS_SECRETS). */
  previousSecrets: readonly string[];
  expiresIn: string;
  issuer: string;
  audience: string;
}

export interface WorkerConfig {
  /** Provisioning jobs at once per worker process. */
  concurrency: number;
  /** `migrate-tenants` batches at once per worker process. */
  migrationConcurrency: number;
  /** Organizations per `migrate-tenants` batch, at most. */
  migrationBatchSize: number;
  /** A dead worker's jobs return after about lock + stalled interval. */
  lockDurationMs: number;
  stalledIntervalMs: number;
  /** The periodic sweeps (the worker's sweeps/): most run every `intervalMs`, the orphan search every `orphansIntervalMs`. */
  reconcile: { intervalMs: number; stuckAfterMs: number; orphansIntervalMs: number };
  /** The worker's own `/metrics` and `/health`; port 0 disables them. */
  metrics: { port: number; host: string };
}

export interface HttpConfig {
  port: number;
  bodyLimit: string;
  /**
   * Express's `trust proxy` setting: `false` (default: the peer's address is the client's, and
   * X-Forwarded-* headers are ignored), a hop count, or a list of addresses/CIDRs/names.
   */
  trustProxy: boolean | number | string[];
  /** The URL clients use to reach the API; an https one turns on HSTS and upgrade-insecure-requests. */
  publicUrl?: string;
  /** When set, the API's `/metrics` answers only `Authorization: Bearer <token>`. */
  metricsToken?: string;
}

/** Builds the config from the environment (and `.env`); throws a readable ConfigError when invalid. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const value = readEnvironment(env);
  const databaseTimeouts = { connectMs: value.DATABASE_CONNECT_TIMEOUT_MS, queryMs: value.DATABASE_QUERY_TIMEOUT_MS };
  return deepFreeze({
    runtime: { nodeEnv: value.NODE_ENV, logLevel: value.LOG_LEVEL, shutdownTimeoutMs: value.SHUTDOWN_TIMEOUT_MS },
    database: { url: value.DATABASE_URL, timeouts: databaseTimeouts },
    tenancy: {
      // Org databases live on the control database's server unless told otherwise.
      serverUrl: value.ORG_DATABASE_URL ?? serverOf(value.DATABASE_URL),
      databasePrefix: value.ORG_DATABASE_PREFIX,
      templateEnabled: value.ORG_TEMPLATE_ENABLED,
      spareDatabases: value.SPARE_DATABASES,
      pools: {
        size: value.TENANT_POOL_SIZE,
        budget: value.TENANT_CONNECTION_BUDGET,
        idleMs: value.TENANT_POOL_IDLE_MS,
        acquireTimeoutMs: value.TENANT_ACQUIRE_TIMEOUT_MS,
        timeouts: databaseTimeouts,
      },
      fleet: {
        defaultServerCapacity: value.DEFAULT_SERVER_CAPACITY,
        pgbouncer: value.PGBOUNCER_DATABASES_FILE ? { databasesFile: value.PGBOUNCER_DATABASES_FILE, adminUrl: value.PGBOUNCER_ADMIN_URL } : undefined,
        moveSessionGraceMs: value.MOVE_SESSION_GRACE_MS,
      },
    },
    queue: {
      redisUrl: value.REDIS_URL,
      timeouts: { connectMs: value.REDIS_CONNECT_TIMEOUT_MS, commandMs: value.REDIS_COMMAND_TIMEOUT_MS },
      // On a Redis Cluster the prefix is a hash tag ({orgms}): BullMQ's scripts and flows need all
      // of a deployment's queue keys in one slot (queues/redis-url.ts).
      prefix: queuePrefixFor(value.REDIS_URL, value.QUEUE_PREFIX),
      retry: {
        provisioning: { attempts: value.PROVISION_ATTEMPTS, backoffMs: value.PROVISION_BACKOFF_MS },
        migrations: { attempts: value.MIGRATION_ATTEMPTS, backoffMs: value.MIGRATION_BACKOFF_MS },
      },
    },
    auth: {
      jwt: {
        // A random secret in development keeps a missing env var from becoming a guessable key;
        // tokens then simply stop working after a restart.
        secret: value.JWT_SECRET ?? randomBytes(32).toString('hex'),
        previousSecrets: value.JWT_PREVIOUS_SECRETS?.split(',') ?? [],
        expiresIn: value.JWT_EXPIRES_IN,
        issuer: value.JWT_ISSUER,
        audience: value.JWT_AUDIENCE,
      },
      refreshTokenTtl: value.REFRESH_TOKEN_TTL,
      bcryptRounds: value.BCRYPT_ROUNDS,
      bootstrapAdmin: value.BOOTSTRAP_ADMIN_EMAIL ? { email: value.BOOTSTRAP_ADMIN_EMAIL, password: value.BOOTSTRAP_ADMIN_PASSWORD } : undefined,
      allowSelfSignup: value.ALLOW_SELF_SIGNUP,
      loginThrottle: { windowMs: value.LOGIN_RATE_LIMIT_WINDOW_MS, perIp: value.LOGIN_RATE_LIMIT_PER_IP, perAccount: value.LOGIN_RATE_LIMIT_PER_ACCOUNT },
      signupThrottle: { windowMs: value.SIGNUP_RATE_LIMIT_WINDOW_MS, perIp: value.SIGNUP_RATE_LIMIT_PER_IP },
    },
    worker: {
      concurrency: value.WORKER_CONCURRENCY,
      migrationConcurrency: value.MIGRATION_CONCURRENCY,
      migrationBatchSize: value.MIGRATION_BATCH_SIZE,
      lockDurationMs: value.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: value.WORKER_STALLED_INTERVAL_MS,
      reconcile: {
        intervalMs: value.RECONCILE_INTERVAL_MS,
        stuckAfterMs: value.RECONCILE_STUCK_AFTER_MS,
        orphansIntervalMs: value.RECONCILE_ORPHANS_INTERVAL_MS,
      },
      metrics: { port: value.WORKER_METRICS_PORT, host: value.WORKER_METRICS_HOST },
    },
    http: {
      port: value.PORT,
      bodyLimit: value.BODY_LIMIT,
      trustProxy: parseTrustProxy(value.TRUST_PROXY),
      publicUrl: value.PUBLIC_URL,
      metricsToken: value.METRICS_TOKEN,
    },
    secrets: secretsOf(value),
    exports: { dir: resolve(value.EXPORT_DIR), ttlMs: value.EXPORT_TTL_MS },
    archives: { dir: resolve(value.ARCHIVE_DIR), deleteGraceMs: value.ORG_DELETE_GRACE_MS },
    backups: {
      dir: resolve(value.BACKUP_DIR),
      intervalMs: value.BACKUP_INTERVAL,
      concurrencyPerServer: value.BACKUP_CONCURRENCY,
      keepDaily: value.BACKUP_KEEP_DAILY,
      keepWeekly: value.BACKUP_KEEP_WEEKLY,
      manualTtlMs: value.BACKUP_MANUAL_TTL,
    },
    auditRetentionDays: value.AUDIT_RETENTION_DAYS,
    limits: {
      requestRatesEnabled: value.RATE_LIMITS_ENABLED,
      windowMs: value.RATE_LIMIT_WINDOW_MS,
      organization: { reads: value.RATE_LIMIT_READS, writes: value.RATE_LIMIT_WRITES, expensive: value.RATE_LIMIT_EXPENSIVE },
      admission: {
        concurrency: value.ADMISSION_CONCURRENCY,
        perLane: value.ADMISSION_ORGANIZATION_CONCURRENCY,
        queuePerLane: value.ADMISSION_ORGANIZATION_QUEUE,
        maxWaitMs: value.ADMISSION_MAX_WAIT_MS,
      },
      platformAdmin: { reads: value.PLATFORM_RATE_LIMIT_READS, writes: value.PLATFORM_RATE_LIMIT_WRITES, expensive: value.PLATFORM_RATE_LIMIT_EXPENSIVE },
      database: {
        connectionLimit: value.ORG_DB_CONNECTION_LIMIT,
        statementTimeoutMs: value.ORG_DB_STATEMENT_TIMEOUT_MS,
        idleInTransactionTimeoutMs: value.ORG_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        tempFileLimitKb: value.ORG_DB_TEMP_FILE_LIMIT_KB,
      },
      quotas: { users: value.QUOTA_USERS, databaseBytes: value.QUOTA_DATABASE_BYTES },
      quotaSweepIntervalMs: value.QUOTA_SWEEP_INTERVAL_MS,
      tenantWorkConcurrency: value.TENANT_WORK_CONCURRENCY,
      exportDiskLimitBytes: value.EXPORT_DISK_LIMIT_BYTES,
    },
    webhooks: {
      allowPrivate: value.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: value.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: value.WEBHOOK_RETRY_BASE_MS,
      maxAgeMs: value.WEBHOOK_MAX_AGE_MS,
      concurrency: value.WEBHOOK_CONCURRENCY,
      sweepIntervalMs: value.WEBHOOK_SWEEP_INTERVAL_MS,
    },
  });
}

/**
 * Outside production a missing SECRETS_KEY falls back to a fixed development key (id
 * `development`), so stored server credentials survive restarts; production refuses to start
 * without a key of its own (config/environment.ts).
 */
const DEVELOPMENT_SECRETS_KEY = 'b3JnbXMtZGV2ZWxvcG1lbnQta2V5LW5vdC1zZWNyZXQ=';

// biome-ignore lint/suspicious/noExplicitAny: joi's validated output (see readEnvironment)
function secretsOf(value: Record<string, any>): SecretsConfig {
  const current = value.SECRETS_KEY ? keyOrConfigError(value.SECRETS_KEY_ID, value.SECRETS_KEY) : parseSecretKey('development', DEVELOPMENT_SECRETS_KEY);
  const previous = ((value.SECRETS_PREVIOUS_KEYS as string | undefined) ?? '')
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const [id, key] = entry.split(':');
      return keyOrConfigError(id, key);
    });
  return { current, previous };
}

function keyOrConfigError(id: string, raw: string): SecretKey {
  try {
    return parseSecretKey(id, raw);
  } catch (error) {
    throw new ConfigError(`Invalid configuration: ${(error as Error).message}`);
  }
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

/** No part of the service may change the settings another part reads. */
function deepFreeze<T extends object>(value: T): T {
  // Key bytes (Buffers) cannot be frozen; nothing hands them out for writing.
  for (const member of Object.values(value)) if (member && typeof member === 'object' && !ArrayBuffer.isView(member)) deepFreeze(member);
  return Object.freeze(value);
}
