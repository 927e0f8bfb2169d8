import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Resident set size of a process in MB (`VmRSS` of /proc/<pid>/status); NaN when it cannot be read. */
export function rssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Samples the process's RSS every `everyMs` until `until` settles; returns the peak and the last sample (MB). */
export async function sampleRss(pid: number | undefined, until: Promise<unknown>, everyMs = 100): Promise<{ peakMb: number; lastMb: number }> {
  let done = false;
  void until.finally(() => {
    done = true;
  });
  let peakMb = rssMb(pid);
  let lastMb = peakMb;
  while (!done) {
    await sleep(everyMs);
    lastMb = rssMb(pid);
    if (!Number.isNaN(lastMb)) peakMb = Number.isNaN(peakMb) ? lastMb : Math.max(peakMb, lastMb);
  }
  return { peakMb, lastMb: rssMb(pid) };
}
