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
  NODE_ENV: Joi.string().valid('development', 'production', 'test').default('development').description('`production` makes `JWT_SECRET` mandatory'),
  PORT: Joi.number().port().default(3000).description('API port'),
  DATABASE_URL: Joi.string()
    .uri({ scheme: ['postgres', 'postgresql'] })
    .default('postgres://postgres@127.0.0.1:5432/orgms_control')
    .description('control database (created if missing)'),
  ORG_DATABASE_URL: Joi.string()
    .uri({ scheme: ['postgres', 'postgresql'] })
    .description(
      "server and role that org databases are created on; the role needs `CREATEDB`, and `CREATEROLE` for the organizations' own roles (see [Database roles](tenant-databases.md#database-roles))",
    )
    .meta({ defaultText: 'the server of `DATABASE_URL` (database `postgres`)' }),
  ORG_DATABASE_PREFIX: identifierPrefix.default('org_').description('prefix of every org database name (`[a-z][a-z0-9_]{0,19}`)'),
  // One Redis (redis://, rediss://) or a Redis Cluster by its nodes (redis+cluster://host:port,host:port).
  REDIS_URL: Joi.alternatives()
    .conditional(Joi.string().pattern(LOOKS_LIKE_CLUSTER_URL), {
      // biome-ignore lint/suspicious/noThenProperty: joi's conditional schema, not a thenable
      then: Joi.string()
        .custom((url: string) => parseRedisClusterUrl(url) && url)
        .messages({ 'any.custom': '{{#label}} must be redis+cluster://host:port,host:port (rediss+cluster:// for TLS): {{#error.message}}' }),
      otherwise: Joi.string().uri({ scheme: ['redis', 'rediss'] }),
    })
    .default('redis://127.0.0.1:6379')
    .description('BullMQ queues, pub/sub, rate-limit counters; a Redis Cluster: `redis+cluster://host:port,host:port` (see Operations)'),
  // Gray failures (a network that drops packets: nothing refused, nothing reset) must cost a
  // request seconds, not as long as the stall lasts (docs/operations/runbook.md, "Stalls").
  DATABASE_CONNECT_TIMEOUT_MS: Joi.number()
    .integer()
    .min(100)
    .default(4000)
    .description('how long opening a PostgreSQL connection, or waiting for a free one of a pool, may take; then the request answers `503` + `Retry-After`'),
  DATABASE_QUERY_TIMEOUT_MS: Joi.number()
    .integer()
    .min(0)
    .default(4000)
    .description(
      "how long the API (control database, organizations' pools) and the worker's control database wait for a query's answer; then that connection is closed and the request answers `503` + `Retry-After` (`0`: no limit). Schema changes, clones, dumps and restores are not bounded by it",
    ),
  REDIS_CONNECT_TIMEOUT_MS: Joi.number().integer().min(100).default(2000).description('how long connecting to Redis may take before the next attempt'),
  REDIS_COMMAND_TIMEOUT_MS: Joi.number()
    .integer()
    .min(100)
    .default(2000)
    .description(
      'how long the API waits for a Redis command (enqueues, rate-limit and login counters); every process also pings Redis this often and reconnects when a ping gets no answer within it, so a stalled connection is replaced',
    ),
  QUEUE_PREFIX: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,40}$/)
    .default('orgms')
    .description('BullMQ key prefix (also of the pub/sub channel and rate-limit keys), so two deployments can share a Redis'),
  JWT_SECRET: Joi.string()
    .min(32)
    .description('HS256 key, ≥ 32 characters')
    .meta({ defaultText: 'random per start in development; **required** in production' }),
  // Keys of a rotation, `key,key`: they still verify the tokens they signed but never sign. The
  // message names no key, so a refused one is not printed to the log.
  JWT_PREVIOUS_SECRETS: Joi.string()
    .custom((raw: string) => {
      if (raw.split(',').some((key) => key.length < 32)) throw new Error('each key must be at least 32 characters');
      return raw;
    })
    .messages({ 'any.custom': '{{#label}}: {{#error.message}}' })
    .description(
      'earlier keys, `key,key` (each ≥ 32 characters): they still verify their tokens, never sign (see [Signing keys and rotation](../api/auth-and-tokens.md#signing-keys-and-rotation))',
    )
    .meta({ defaultText: 'unset' }),
  JWT_EXPIRES_IN: Joi.string()
    .pattern(/^\d+[smhd]?$/)
    .default('15m')
    .description('access token lifetime (`90`, `90s`, `15m`, `1h`, `7d`)'),
  REFRESH_TOKEN_TTL: Joi.string()
    .pattern(/^\d+[smhd]?$/)
    .default('30d')
    .description(
      'lifetime of each refresh token (same formats); every refresh issues a new one (see [Refresh tokens](../api/auth-and-tokens.md#refresh-tokens))',
    ),
  JWT_ISSUER: Joi.string().default('orgms').description('`iss` claim, checked on every request'),
  JWT_AUDIENCE: Joi.string().default('orgms-api').description('`aud` claim, checked on every request'),
  BOOTSTRAP_ADMIN_EMAIL: Joi.string()
    .email({ tlds: false })
    .description('with `BOOTSTRAP_ADMIN_PASSWORD`: create this platform admin at start if absent (set both or neither)')
    .meta({ defaultText: 'unset' }),
  BOOTSTRAP_ADMIN_PASSWORD: newPasswordSchema
    .description("the bootstrap admin's password (8+ characters, at most 72 bytes: the API's password rule)")
    .meta({ defaultText: 'unset' }),
  ALLOW_SELF_SIGNUP: Joi.boolean().default(false).description('let anyone (no token) create an organization'),
  BCRYPT_ROUNDS: Joi.number().integer().min(4).max(15).default(12).description('password hashing cost (4–15)'),
  WORKER_CONCURRENCY: Joi.number()
    .integer()
    .min(1)
    .max(64)
    .default(4)
    .description('provisioning and purge jobs per worker process (what organizations ask for: `TENANT_WORK_CONCURRENCY`)'),
  // A dead worker's jobs return within lock + stalled interval (15 s); the price is a lock renewal
  // per running job every 5 s, and a job that blocks its event loop for 10 s counts as stalled and
  // runs again (every job is idempotent, so that only costs time).
  WORKER_LOCK_DURATION_MS: Joi.number()
    .integer()
    .min(1000)
    .default(10000)
    .description("BullMQ job lock, renewed every half of it; a dead worker's jobs return after at most lock + stalled interval (15 s)"),
  WORKER_STALLED_INTERVAL_MS: Joi.number().integer().min(1000).default(5000).description('how often BullMQ looks for jobs of dead workers'),
  WORKER_METRICS_PORT: Joi.number().port().default(9464).description("the worker's own `/metrics` and `/health` port (`0` disables it)"),
  PROVISION_ATTEMPTS: Joi.number().integer().min(1).max(20).default(5).description('attempts per provisioning job before the org is `failed`'),
  PROVISION_BACKOFF_MS: Joi.number().integer().min(0).default(2000).description('first retry delay; doubles each attempt (exponential)'),
  RECONCILE_INTERVAL_MS: Joi.number()
    .integer()
    .min(100)
    .default(30000)
    .description('how often each periodic sweep runs (stuck organizations, purges due, lost and expired exports, expired refresh tokens, audit retention)'),
  RECONCILE_STUCK_AFTER_MS: Joi.number()
    .integer()
    .min(0)
    .default(60000)
    .description(
      'an org `pending`/`provisioning`/`moving`/`restoring`/`purging` untouched this long, or an export still `queued`/`running` this long after it was asked for, is re-enqueued if it has no live job',
    ),
  // The orphan search reads every server's database list, and what it finds waits for an operator anyway.
  RECONCILE_ORPHANS_INTERVAL_MS: Joi.number()
    .integer()
    .min(100)
    .default(300000)
    .description('how often the orphans sweep looks for orphans on every database server'),
  ORG_TEMPLATE_ENABLED: Joi.boolean()
    .default(true)
    .description('create org databases by cloning `<ORG_DATABASE_PREFIX>template`; `false` always creates them empty and runs every migration'),
  // Refilled after each claim in about one clone's time (≈ 50 ms), so a few absorb any burst the clones keep up with.
  SPARE_DATABASES: Joi.number()
    .integer()
    .min(0)
    .max(100)
    .default(2)
    .description(
      "spare databases each active server keeps cloned from its template, so creating an organization renames one instead of cloning; they take room of the server's capacity; `0` disables them (needs `ORG_TEMPLATE_ENABLED`)",
    ),
  MIGRATION_CONCURRENCY: Joi.number()
    .integer()
    .min(1)
    .max(64)
    .default(2)
    .description('`migrate-tenants` batches at once per worker process (fleet migrations)'),
  // Big enough that the job and connection setup of a batch is small beside its organizations, small enough that a run spreads over the workers.
  MIGRATION_BATCH_SIZE: Joi.number()
    .integer()
    .min(1)
    .max(1000)
    .default(50)
    .description('organizations per `migrate-tenants` job of a fleet migration run (fewer when a run has fewer than this per MIGRATION_CONCURRENCY slot)'),
  MIGRATION_ATTEMPTS: Joi.number().integer().min(1).max(20).default(3).description('attempts per organization in a fleet migration run'),
  // The same first delay as provisioning's, which fleet migrations used before they had their own.
  MIGRATION_BACKOFF_MS: Joi.number()
    .integer()
    .min(0)
    .default(2000)
    .description('first retry delay of an organization in a fleet migration run; doubles each attempt (exponential)'),
  TENANT_POOL_SIZE: Joi.number().integer().min(1).max(20).default(2).description('connections per organization pool in the API (1–20)'),
  // Well under PostgreSQL's default max_connections (100), leaving room for the control pool and workers.
  TENANT_CONNECTION_BUDGET: Joi.number()
    .integer()
    .min(1)
    .max(10000)
    .default(40)
    .description(
      "the `default` server's connection budget when it is registered at start: tenant connections one API process may hold to it (each server has its own, `PATCH /database-servers/{id}`)",
    ),
  TENANT_POOL_IDLE_MS: Joi.number().integer().min(100).default(60000).description('an unused organization pool is closed after this long'),
  TENANT_ACQUIRE_TIMEOUT_MS: Joi.number()
    .integer()
    .min(1)
    .default(5000)
    .description("how long a request waits for room in the budget, or for a connection of its organization's own pool, before a 503"),
  LOGIN_RATE_LIMIT_WINDOW_MS: Joi.number().integer().min(1000).default(900000).description('login throttling window (15 min)'),
  LOGIN_RATE_LIMIT_PER_IP: Joi.number().integer().min(1).default(100).description('login attempts per client IP per window'),
  LOGIN_RATE_LIMIT_PER_ACCOUNT: Joi.number().integer().min(1).default(10).description('failed login attempts per account per window'),
  SIGNUP_RATE_LIMIT_WINDOW_MS: Joi.number()
    .integer()
    .min(1000)
    .default(3600000)
    .description("with `ALLOW_SELF_SIGNUP=true`: the window of the per-address limit on organizations created without a platform admin's token (1 h)"),
  SIGNUP_RATE_LIMIT_PER_IP: Joi.number()
    .integer()
    .min(1)
    .default(10)
    .description("organizations one client address may create per window without a platform admin's token (then `429` + `Retry-After`)"),
  TRUST_PROXY: Joi.string()
    .trim()
    .pattern(/^(false|true|\d{1,2}|[0-9A-Za-z.:/_,\s-]+)$/)
    .default('false')
    .description('which proxies may set `X-Forwarded-For`/`-Proto`: a hop count or addresses/CIDRs/names (Express syntax); `true` is refused'),
  PUBLIC_URL: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .description('the URL clients use; an `https` one turns on HSTS and the other HTTPS-only headers, and its origin may write to Bull Board')
    .meta({ defaultText: 'unset' }),
  METRICS_TOKEN: Joi.string()
    .min(16)
    .description("when set (16+ characters), the API's `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>`")
    .meta({ defaultText: 'unset' }),
  WORKER_METRICS_HOST: Joi.string()
    .hostname()
    .default('127.0.0.1')
    .description("interface of the worker's metrics/health port; set `0.0.0.0` only where the network restricts who can reach it"),
  // 32 bytes, base64 or hex; encrypts database server credentials at rest (required in production).
  SECRETS_KEY: Joi.string()
    .pattern(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/)
    .description(
      "32-byte key (base64 or hex) that encrypts database server credentials and organizations' role passwords at rest (AES-256-GCM); **required in production**; outside production a fixed development key is used",
    )
    .meta({ defaultText: 'unset' }),
  SECRETS_KEY_ID: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,32}$/)
    .default('primary')
    .description('the id stored beside every value `SECRETS_KEY` seals; give each new key a new id when rotating'),
  // Older keys, `id:key,id:key`, that still open values sealed before a rotation.
  SECRETS_PREVIOUS_KEYS: Joi.string()
    .pattern(/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=]+(,[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/=]+)*$/)
    .description('`id:key,id:key`: earlier keys that still open old values; at start every value is sealed again with `SECRETS_KEY`')
    .meta({ defaultText: 'unset' }),
  DEFAULT_SERVER_CAPACITY: Joi.number()
    .integer()
    .min(0)
    .default(1000)
    .description('organizations the `default` server (`ORG_DATABASE_URL`) takes when it is registered at first start'),
  PGBOUNCER_DATABASES_FILE: Joi.string()
    .description(
      'with a PgBouncer shared by several servers: the file its `[databases]` `%include`s, which the worker writes (one line per organization database)',
    )
    .meta({ defaultText: 'unset' }),
  PGBOUNCER_ADMIN_URL: Joi.string()
    .uri({ scheme: ['postgres', 'postgresql'] })
    .description("that PgBouncer's admin console (`postgres://user@host:6432/pgbouncer`), sent `RELOAD` after each write; set with the file, or neither")
    .meta({ defaultText: 'unset' }),
  MOVE_SESSION_GRACE_MS: Joi.number()
    .integer()
    .min(0)
    .default(5000)
    .description('during a move, how long sessions opened before writes stopped may finish before they are ended'),
  // Where organization exports (pg_dump -Fc files) are written; relative paths are resolved against the working directory.
  EXPORT_DIR: Joi.string()
    .default('./var/exports')
    .description('where the worker writes organization exports (`pg_dump -Fc`), and the API reads them; resolved to an absolute path, created if missing'),
  EXPORT_TTL_MS: Joi.number()
    .integer()
    .min(1)
    .default(86400000)
    .description('an export expires this long after it is ready: downloads answer 410, the `expired-exports` sweep deletes its file'),
  // Backups of every active organization: how often, how many at once, how long they are kept, and where.
  BACKUP_INTERVAL: Joi.number()
    .integer()
    .min(60000)
    .default(86400000)
    .description('every active organization is backed up once per this interval (24 h), at its own moment within it so backups never come in a burst'),
  BACKUP_CONCURRENCY: Joi.number()
    .integer()
    .min(1)
    .default(2)
    .description('scheduled backups queued or running at once per database server; the `backups` sweep leaves the others for its next pass'),
  BACKUP_KEEP_DAILY: Joi.number().integer().min(1).default(7).description('scheduled backups kept: the newest of each of this many latest days with one'),
  BACKUP_KEEP_WEEKLY: Joi.number()
    .integer()
    .min(0)
    .default(4)
    .description('scheduled backups kept besides the daily ones: the newest of each of this many latest weeks with one'),
  BACKUP_MANUAL_TTL: Joi.number()
    .integer()
    .min(1)
    .default(604800000)
    .description('a backup asked for with `POST …/backups` (or taken before a restore) expires this long after it is verified (7 days)'),
  BACKUP_DIR: Joi.string()
    .default('./var/backups')
    .description('where the worker writes organization backups (`pg_dump -Fc`); resolved to an absolute path, created if missing'),
  // Where a purge writes the archive (pg_dump -Fc) of a deleted organization before it drops its database.
  ARCHIVE_DIR: Joi.string()
    .default('./var/archives')
    .description('where a purge writes the archive (`pg_dump -Fc`) of a deleted organization before dropping its database; kept until an operator removes it'),
  ORG_DELETE_GRACE_MS: Joi.number()
    .integer()
    .min(0)
    .default(604800000)
    .description(
      'how long a deleted organization keeps its database and can be restored (7 days); then the `purges-due` sweep starts its purge (archive, then drop)',
    ),
  RATE_LIMITS_ENABLED: Joi.boolean()
    .default(true)
    .description('check the request-rate limits (`false`: no request is counted or refused; only for measuring what the check costs)'),
  RATE_LIMIT_WINDOW_MS: Joi.number()
    .integer()
    .min(1000)
    .default(60000)
    .description('the window of the request-rate limits (per organization, and per platform admin)'),
  RATE_LIMIT_READS: Joi.number()
    .integer()
    .min(1)
    .default(6000)
    .description("reads (`GET`) one organization's users and tokens may make per window, all API replicas together (then `429`)"),
  RATE_LIMIT_WRITES: Joi.number().integer().min(1).default(300).description('writes (`POST`, `PATCH`, `DELETE`) one organization may make per window'),
  RATE_LIMIT_EXPENSIVE: Joi.number()
    .integer()
    .min(1)
    .default(10)
    .description('expensive operations (exports, moves, restores, backups) one organization may ask for per window'),
  ADMISSION_CONCURRENCY: Joi.number()
    .integer()
    .min(1)
    .default(32)
    .description('requests one API replica serves at once, every organization together; past it, requests wait and organizations take turns'),
  ADMISSION_ORGANIZATION_CONCURRENCY: Joi.number()
    .integer()
    .min(1)
    .default(2)
    .description(
      "requests of one organization one API replica serves at once; its others wait their turn (platform admins' requests are capped only by `ADMISSION_CONCURRENCY`)",
    ),
  ADMISSION_ORGANIZATION_QUEUE: Joi.number()
    .integer()
    .min(0)
    .default(50)
    .description('requests of one organization that may wait for their turn on one API replica (the next: `429`)'),
  ADMISSION_MAX_WAIT_MS: Joi.number()
    .integer()
    .min(1)
    .default(5000)
    .description('the longest a request waits for its turn (then `429` if its organization is at its own limit, else `503`, with `Retry-After`)'),
  PLATFORM_RATE_LIMIT_READS: Joi.number().integer().min(1).default(60000).description('reads one platform admin may make per window'),
  PLATFORM_RATE_LIMIT_WRITES: Joi.number().integer().min(1).default(6000).description('writes one platform admin may make per window'),
  PLATFORM_RATE_LIMIT_EXPENSIVE: Joi.number().integer().min(1).default(100).description('expensive operations one platform admin may ask for per window'),
  ORG_DB_CONNECTION_LIMIT: Joi.number().integer().min(1).max(10000).default(10).description("`CONNECTION LIMIT` of each organization's own database role"),
  ORG_DB_STATEMENT_TIMEOUT_MS: Joi.number().integer().min(0).default(30000).description("`statement_timeout` of each organization's role (`0`: none)"),
  ORG_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: Joi.number()
    .integer()
    .min(0)
    .default(60000)
    .description("`idle_in_transaction_session_timeout` of each organization's role (`0`: none)"),
  ORG_DB_TEMP_FILE_LIMIT_KB: Joi.number()
    .integer()
    .min(-1)
    .default(1048576)
    .description("`temp_file_limit` of each organization's role, in kB (`-1`: none; needs a superuser admin role, otherwise left as the server has it)"),
  QUOTA_USERS: Joi.number().integer().min(1).default(100000).description('users one organization may have; creating more answers `403` `quota-exceeded`'),
  QUOTA_DATABASE_BYTES: Joi.number()
    .integer()
    .min(1)
    .default(1073741824)
    .description("size one organization's database may reach (1 GiB); over it, writes that grow it answer `403` `quota-exceeded`"),
  QUOTA_SWEEP_INTERVAL_MS: Joi.number()
    .integer()
    .min(1000)
    .default(300000)
    .description("how often the worker samples every organization's database size (`pg_database_size`) against its quota"),
  TENANT_WORK_CONCURRENCY: Joi.number()
    .integer()
    .min(1)
    .max(64)
    .default(2)
    .description(
      'jobs that organizations ask for (exports, moves, restores, backups) at once per worker process, on their own queue: they never delay provisioning',
    ),
  EXPORT_DISK_LIMIT_BYTES: Joi.number()
    .integer()
    .min(1)
    .default(10737418240)
    .description('disk the ready exports in `EXPORT_DIR` may use together (10 GiB); beyond it, a new export answers `503` + `Retry-After`'),
  // 0 keeps every audit entry forever.
  AUDIT_RETENTION_DAYS: Joi.number()
    .integer()
    .min(0)
    .default(365)
    .description(
      'the `audit-retention` sweep deletes [audit log](../api/audit.md#audit-log) entries older than this many days (up to 5,000 per pass); `0` keeps them forever',
    ),
  // Webhooks: private and loopback targets are refused unless this is true (tests, a private network); metadata and link-local ones always are.
  WEBHOOK_ALLOW_PRIVATE: Joi.boolean()
    .default(false)
    .description(
      'allow webhook URLs that resolve to private or loopback addresses (refused by default, at registration and before every delivery); link-local and cloud metadata addresses (169.254.0.0/16, `fe80::/10`, `fd00:ec2::254`, 100.100.100.200, and IPv6 forms that embed them) stay refused even when `true`',
    ),
  WEBHOOK_TIMEOUT_MS: Joi.number()
    .integer()
    .min(100)
    .default(10000)
    .description("time limit of one webhook delivery attempt, connection to the answer's last byte"),
  // A failed delivery is retried after this, doubled at each attempt (at most an hour apart), until WEBHOOK_MAX_AGE_MS.
  WEBHOOK_RETRY_BASE_MS: Joi.number()
    .integer()
    .min(10)
    .default(5000)
    .description('a failed webhook delivery is tried again after this, doubled at each attempt (at most an hour apart)'),
  WEBHOOK_MAX_AGE_MS: Joi.number()
    .integer()
    .min(100)
    .default(86400000)
    .description('a webhook delivery is retried until it is this old (24 h); then it fails, its endpoint is marked `failing`, an error is logged and counted'),
  WEBHOOK_CONCURRENCY: Joi.number()
    .integer()
    .min(1)
    .max(256)
    .default(16)
    .description('webhook lanes (one endpoint × one organization, delivered in order) sent at once per worker process'),
  WEBHOOK_SWEEP_INTERVAL_MS: Joi.number()
    .integer()
    .min(100)
    .default(10000)
    .description('how often the worker looks for webhook deliveries that no notification announced (a worker or Redis was down)'),
  SHUTDOWN_TIMEOUT_MS: Joi.number().integer().min(100).default(10000).description('time limit of the ordered graceful shutdown of each process'),
  BODY_LIMIT: Joi.string().default('100kb').description('largest accepted JSON body (larger: 413)'),
  LOG_LEVEL: Joi.string()
    .valid('error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly')
    .default('info')
    .description('winston level (`error` … `silly`; `http` logs every request)'),
  // OpenTelemetry's own variables, read by its SDK (libs/common/src/tracing/start-tracing.ts);
  // listed here so that a wrong value stops the process and the configuration page documents them.
  OTEL_TRACES_EXPORTER: Joi.string()
    .pattern(/^(otlp|console|none)(,(otlp|console|none))*$/)
    .description(
      '`otlp` (or `console`) turns tracing on in both processes; unset or `none` loads no OpenTelemetry code (see [Traces](observability.md#traces))',
    )
    .meta({ defaultText: 'unset: tracing off' }),
  OTEL_EXPORTER_OTLP_ENDPOINT: Joi.string()
    .uri({ scheme: ['http', 'https'] })
    .description('the OTLP/HTTP receiver (a collector, Jaeger, Tempo…); spans go to `<endpoint>/v1/traces`')
    .meta({ defaultText: "the SDK's `http://localhost:4318`" }),
  OTEL_EXPORTER_OTLP_PROTOCOL: Joi.string()
    .valid('http/protobuf', 'http/json')
    .description('encoding of the exported spans')
    .meta({ defaultText: "the SDK's `http/protobuf`" }),
  OTEL_SERVICE_NAME: Joi.string().description("the `service.name` of the process's spans").meta({ defaultText: '`orgms-api` or `orgms-worker`' }),
  OTEL_TRACES_SAMPLER: Joi.string()
    .valid('always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio')
    .description("which traces are kept; `parentbased_traceidratio` keeps a share of new traces and follows the caller's decision")
    .meta({ defaultText: "the SDK's `parentbased_always_on`" }),
  OTEL_TRACES_SAMPLER_ARG: Joi.number()
    .min(0)
    .max(1)
    .description('the share of traces the `…traceidratio` samplers keep (0–1)')
    .meta({ defaultText: "the SDK's `1`" }),
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
