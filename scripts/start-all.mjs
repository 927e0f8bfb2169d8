#!/usr/bin/env node
// `npm start`: runs the API and one worker as two child processes from the built `dist`
// (`npm run dev`: from the TypeScript sources).
// Ctrl-C (SIGINT) or SIGTERM is passed to both; each shuts down gracefully within
// SHUTDOWN_TIMEOUT_MS. If either exits on its own, the other is stopped too, so a half-running
// service never goes unnoticed. Both processes migrate the control database at boot.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// `--source` (npm run dev) runs the TypeScript sources through tsx instead of the built `dist`.
const fromSource = process.argv.includes('--source');
const entryArgs = (app) => (fromSource ? ['--conditions=source', '--import', 'tsx', `apps/${app}/src/main.ts`] : [`apps/${app}/dist/main.js`]);
const children = ['api', 'worker'].map((app) => spawn(process.execPath, entryArgs(app), { cwd: root, stdio: 'inherit' }));

let exitCode = 0;
let stopping = false;
const stopAll = (signal) => {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
};

for (const child of children) {
  child.on('exit', (code) => {
    if (code !== 0 && !stopping) exitCode = code ?? 1;
    stopAll('SIGTERM');
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(exitCode);
  });
}
// A terminal's Ctrl-C reaches the children directly too; they ignore the repeat.
process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
