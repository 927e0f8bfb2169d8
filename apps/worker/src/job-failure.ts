import { isTransientDatabaseError, sqlStateOf } from '@orgms/common/database/database-errors';

/**
 * How every job fails on purpose (provisioning, deletion, migrations, the template): the message
 * is ours and safe to show (`last_error`, a migration run's failures, Bull Board), and
 * `permanent` says that no retry can fix it, so the job gives up at once (the processor turns it
 * into BullMQ's UnrecoverableError) instead of spending its remaining attempts.
 */
export class JobFailure extends Error {
  readonly permanent: boolean;

  constructor(message: string, options: { permanent: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.name = 'JobFailure';
    this.permanent = options.permanent;
  }
}

/** SQLSTATEs that no retry can fix, with the sentence an operator needs to fix them. */
const PERMANENT_SQLSTATES: Record<string, string> = {
  '42501': 'the database role lacks a privilege it needs (CREATEDB on ORG_DATABASE_URL)',
  '3D000': 'the organization database does not exist',
  '28P01': 'PostgreSQL rejected the password of ORG_DATABASE_URL',
  '28000': 'PostgreSQL rejected the role of ORG_DATABASE_URL',
};

export function isPermanentFailure(error: unknown): boolean {
  if (error instanceof JobFailure) return error.permanent;
  const state = sqlStateOf(error);
  return state !== undefined && state in PERMANENT_SQLSTATES;
}

/** Errors of the file system (writing an archive or an export), by their errno code: the path stays in the log. */
const FILE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the disk (ENOSPC)',
  EDQUOT: 'the disk quota is exceeded (EDQUOT)',
  EACCES: 'permission denied on the directory (EACCES)',
  EROFS: 'the file system is read-only (EROFS)',
};

/** Only these codes: others (ECONNREFUSED, …) are the network's, which the database checks describe. */
function fileErrorOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && Object.hasOwn(FILE_ERRORS, code) ? FILE_ERRORS[code] : undefined;
}

/**
 * A sentence for `last_error`, which clients read: our own wording only, never raw SQL,
 * driver messages or stack traces (those go to the worker's log).
 */
export function describeFailure(step: string, error: unknown): string {
  if (error instanceof JobFailure) return `${step}: ${error.message}`;
  const fileError = fileErrorOf(error);
  if (fileError) return `${step}: ${fileError}`;
  const state = sqlStateOf(error);
  if (state && state in PERMANENT_SQLSTATES) return `${step}: ${PERMANENT_SQLSTATES[state]}`;
  if (isTransientDatabaseError(error)) return `${step}: PostgreSQL was unavailable${state ? ` (SQLSTATE ${state})` : ''}`;
  return `${step}: unexpected error${state ? ` (SQLSTATE ${state})` : ''}; see the worker log`;
}

/**
 * The failure a job reports after a step failed: described for clients, permanent or not as the
 * cause says, with the cause kept for the log.
 */
export function jobFailureOf(step: string, cause: unknown): JobFailure {
  return new JobFailure(describeFailure(step, cause), { permanent: isPermanentFailure(cause), cause });
}
