/**
 * PostgreSQL/driver failures that a retry can fix: the server is unreachable, restarting,
 * out of connections, or our session was terminated; deadlocks and serialization failures.
 */
const TRANSIENT_SQLSTATE_PREFIXES = ['08', '53', '57P', '40001', '40P01', '55006'];
const TRANSIENT_NODE_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'];
const TRANSIENT_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Query read timeout/i,
  /Client has encountered a connection error/i,
  /not yet connected|CannotExecuteNotConnected/i,
];

/**
 * TypeORM's names for "the connection went away": not yet connected, or lost mid-transaction
 * (a query through the transaction's runner, or through its EntityManager, after the runner let go).
 */
const TRANSIENT_ERROR_NAMES = ['CannotExecuteNotConnectedError', 'QueryRunnerAlreadyReleasedError', 'QueryRunnerProviderAlreadyReleasedError'];

/**
 * No answer from PostgreSQL within the bounds (pool-options.ts): a connection not opened or not
 * handed out in time, or a query not answered in time (its connection is closed then).
 */
export function isDatabaseTimeout(error: unknown): boolean {
  return error instanceof Error && /timeout exceeded when trying to connect|connection timeout|Query read timeout/i.test(error.message);
}

export function isTransientDatabaseError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (TRANSIENT_NODE_CODES.includes(code)) return true;
    if (TRANSIENT_SQLSTATE_PREFIXES.some((prefix) => code.startsWith(prefix))) return true;
  }
  return TRANSIENT_MESSAGES.some((pattern) => pattern.test(error.message)) || TRANSIENT_ERROR_NAMES.includes(error.name);
}

/** The SQLSTATE of a PostgreSQL error, when it is one. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** A deadlock or serialization failure: two transactions collided; running one again usually succeeds. */
export function isTransactionConflict(error: unknown): boolean {
  const code = sqlStateOf(error);
  return code === '40P01' || code === '40001';
}

/**
 * Runs a transaction, and once more if it lost a deadlock or serialization conflict, so a
 * collision between two requests is not the caller's problem (nor reported as an outage).
 */
export async function retryOnTransactionConflict<T>(transaction: () => Promise<T>): Promise<T> {
  try {
    return await transaction();
  } catch (error) {
    if (!isTransactionConflict(error)) throw error;
    return transaction();
  }
}
