import Joi from 'joi';
import { requestShape } from '../http/common.schemas';

/** A limit being overridden: a positive integer up to `max`, or null for the configured default. */
const override = (max: number, min = 1) => Joi.number().integer().min(min).max(max).allow(null);

/** Bounds that keep an override sane: far above any real need, far below what the columns hold. */
const MAX_REQUESTS_PER_WINDOW = 10_000_000;
const MAX_TIMEOUT_MS = 24 * 3600 * 1000;
const MAX_TEMP_FILE_KB = 2_147_483_647;
const MAX_USERS = 100_000_000;
const MAX_DATABASE_BYTES = 2 ** 50;

export interface RequestRateChanges {
  reads?: number | null;
  writes?: number | null;
  expensive?: number | null;
}
export interface DatabaseLimitChanges {
  connection_limit?: number | null;
  statement_timeout_ms?: number | null;
  idle_in_transaction_timeout_ms?: number | null;
  temp_file_limit_kb?: number | null;
}
export interface QuotaChanges {
  users?: number | null;
  database_bytes?: number | null;
}
export interface LimitChangesBody {
  requests?: RequestRateChanges;
  database?: DatabaseLimitChanges;
  quotas?: QuotaChanges;
}

export const limitChangesBody = requestShape<LimitChangesBody>({
  requests: requestShape<RequestRateChanges>({
    reads: override(MAX_REQUESTS_PER_WINDOW).description('Reads (`GET`) per window.'),
    writes: override(MAX_REQUESTS_PER_WINDOW).description('Writes (`POST`, `PATCH`, `DELETE`) per window.'),
    expensive: override(MAX_REQUESTS_PER_WINDOW).description('Expensive operations (exports, moves, restores) per window.'),
  }).min(1),
  database: requestShape<DatabaseLimitChanges>({
    connection_limit: override(10000).description("`CONNECTION LIMIT` of the organization's role."),
    statement_timeout_ms: override(MAX_TIMEOUT_MS, 0).description('`statement_timeout` (`0`: none).'),
    idle_in_transaction_timeout_ms: override(MAX_TIMEOUT_MS, 0).description('`idle_in_transaction_session_timeout` (`0`: none).'),
    temp_file_limit_kb: override(MAX_TEMP_FILE_KB, -1).description('`temp_file_limit` in kB (`-1`: none).'),
  }).min(1),
  quotas: requestShape<QuotaChanges>({
    users: override(MAX_USERS).description('Users the organization may have.'),
    database_bytes: override(MAX_DATABASE_BYTES).description('Size its database may reach, in bytes.'),
  }).min(1),
})
  .min(1)
  .description('Overrides to change; a limit set to null goes back to the configured default, one left out stays as it is.');
