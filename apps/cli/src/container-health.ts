/**
 * The image's HEALTHCHECK (Dockerfile), one command for whichever process the container runs:
 * it finds our API or worker among the container's processes (`/proc/<pid>/cmdline`, so it works
 * under an init too), asks each one found for its health with the container's own configuration,
 * and exits 0 when all answer 200 within the time limit, 1 otherwise. A container running a
 * one-shot command (the other CLI commands) has nothing to check: 0.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadConfig } from '@orgms/common/config';
import { healthUrlOf, type ProcessRole, roleOfCommandLine } from './container-health-targets';

const TIMEOUT_MS = 3000;

function runningRoles(): Set<ProcessRole> {
  const roles = new Set<ProcessRole>();
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const role = roleOfCommandLine(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean));
      if (role) roles.add(role);
    } catch {
      // the process ended while we looked
    }
  }
  return roles;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) console.error(`${url} answered ${res.status}: ${await res.text()}`);
    return res.ok;
  } catch (error) {
    console.error(`${url}: ${(error as Error).message}`);
    return false;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const urls = [...runningRoles()].map((role) => healthUrlOf(role, config)).filter((url): url is string => url !== undefined);
  const answers = await Promise.all(urls.map(healthy));
  process.exit(answers.every(Boolean) ? 0 : 1);
}

main().catch((error) => {
  console.error(`health check failed: ${(error as Error).message}`);
  process.exit(1);
});
