import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestStack } from './stack';

const run = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command of apps/cli as its `npm run` script does (from source), against the suite's
 * control database, servers, queues and archive directory; never throws.
 */
export async function runCli(stack: TestStack, script: string, args: string[]): Promise<CliResult> {
  const env = {
    ...process.env,
    DATABASE_URL: stack.config.database.url,
    ORG_DATABASE_URL: stack.config.tenancy.serverUrl,
    ORG_DATABASE_PREFIX: stack.config.tenancy.databasePrefix,
    // Jobs the command asks for go to the suite's own queues.
    REDIS_URL: stack.config.queue.redisUrl,
    QUEUE_PREFIX: stack.config.queue.prefix,
    ARCHIVE_DIR: stack.config.archives.dir,
  };
  try {
    const { stdout, stderr } = await run('npx', ['tsx', '--conditions=source', `apps/cli/src/${script}`, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as CliResult;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
