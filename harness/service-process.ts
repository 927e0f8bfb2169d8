import type { ChildProcess } from 'node:child_process';

/** One line a spawned process printed: its JSON log object, or `{ message }` for plain text. */
export interface LogLine {
  level?: string;
  message?: string;
  [key: string]: unknown;
}

/** Every process spawned through this harness, so a failing run can print their logs and cleanup can kill them. */
const started: ServiceProcess[] = [];
// Even if the test runner or the benchmark is interrupted, no spawned process outlives it.
process.on('exit', () => {
  for (const service of started) if (service.alive) service.child.kill('SIGKILL');
});

/**
 * A spawned process (the API, a worker, a throwaway Redis) and what it printed, line by line.
 * Every one is remembered until killAll(), so cleanup never misses one.
 */
export class ServiceProcess {
  readonly logs: string[] = [];
  readonly lines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private listeners: Array<() => void> = [];
  exitInfo?: { code: number | null; signal: NodeJS.Signals | null; at: number };

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    started.push(this);
    this.exited = new Promise((resolveExit) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal, at: Date.now() };
        this.logs.push(`[${name}] exited code=${code} signal=${signal}`);
        resolveExit(this.exitInfo);
        this.notify();
      });
    });
    const onData = (stream: string) => {
      let buffer = '';
      return (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const text = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          this.logs.push(`[${name}${stream}] ${text}`);
          try {
            this.lines.push(JSON.parse(text) as LogLine);
          } catch {
            this.lines.push({ message: text });
          }
          newline = buffer.indexOf('\n');
        }
        this.notify();
      };
    };
    child.stdout?.on('data', onData(''));
    child.stderr?.on('data', onData(':stderr'));
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  /** Resolves with the first log line (already seen or future) matching `predicate`. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 15000, what = 'a log line'): Promise<LogLine> {
    return new Promise((resolveLine, reject) => {
      const check = () => {
        const line = this.lines.find(predicate);
        if (line) {
          cleanup();
          resolveLine(line);
        } else if (!this.alive) {
          cleanup();
          reject(new Error(`${this.name} exited before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
      };
      this.listeners.push(check);
      check();
    });
  }

  count(predicate: (line: LogLine) => boolean): number {
    return this.lines.filter(predicate).length;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGKILL if still alive, and wait for the exit. */
  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function processesStarted(): readonly ServiceProcess[] {
  return started;
}

/** Prints every started process's log lines (use in afterEach when a test failed). */
export function printLogs(): void {
  for (const service of started) {
    process.stdout.write(`\n----- logs of ${service.name} (${service.logs.length} lines) -----\n${service.logs.join('\n')}\n`);
  }
}

/** Kills every process still running (SIGKILL) and forgets them. */
export async function killAll(): Promise<void> {
  await Promise.all(started.map((s) => s.kill()));
  started.length = 0;
}
