import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

/** How much of a tool's error output is kept (its tail). */
const KEPT_ERROR_OUTPUT = 4000;

export interface PgDumpProcess {
  /** The archive (custom format, `-Fc`), to pipe into pg_restore or a file. */
  stdout: Readable;
  /** The exit code once pg_dump has ended (-1 when it could not start). */
  exited: Promise<number>;
  /** The tail of pg_dump's error output so far. */
  errors: () => string;
}

/**
 * `pg_dump -Fc --no-owner --no-acl` of `databaseUrl`, in the exported `snapshot` when one is given
 * (what the dump's manifest was counted in). The URL travels in argv, never through a shell, so
 * no character of it is interpreted; report its errors with `redactPasswords`.
 */
export function spawnPgDump(databaseUrl: string, snapshot?: string): PgDumpProcess {
  const args = ['-Fc', '--no-owner', '--no-acl', ...(snapshot ? [`--snapshot=${snapshot}`] : []), '-d', databaseUrl];
  const dump = spawn('pg_dump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return { stdout: dump.stdout, exited: exitCodeOf(dump), errors: keepErrorOutput(dump) };
}

/** Collects the tail of a child's stderr. */
export function keepErrorOutput(child: ChildProcess): () => string {
  let errors = '';
  child.stderr?.on('data', (chunk) => (errors = (errors + chunk).slice(-KEPT_ERROR_OUTPUT)));
  return () => errors;
}

/** Resolves with the child's exit code; -1 when it could not start or was killed by a signal. */
export function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve) => {
    child.on('error', () => resolve(-1));
    child.on('close', (code) => resolve(code ?? -1));
  });
}

/** `text` trimmed, without the passwords of `urls`, cut to `max` characters: fit for logs and `last_error`. */
export function redactPasswords(text: string, urls: string[], max: number): string {
  const secrets = urls.map((url) => decodeURIComponent(new URL(url).password)).filter(Boolean);
  return secrets.reduce((out, secret) => out.split(secret).join('****'), text.trim()).slice(0, max);
}

export interface PgRestoreResult {
  /** The exit code (-1 when it could not start or was killed by a signal). */
  code: number;
  stdout: string;
  /** The tail of its error output. */
  errors: string;
}

/** Runs `pg_restore` with `args` to its end. Arguments go through argv, never a shell. */
export async function runPgRestore(args: string[]): Promise<PgRestoreResult> {
  const restore = spawn('pg_restore', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  restore.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const errors = keepErrorOutput(restore);
  const code = await exitCodeOf(restore);
  return { code, stdout, errors: errors() };
}
