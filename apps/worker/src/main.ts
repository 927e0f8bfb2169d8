import { startProcessWithTracing } from '@orgms/common/tracing/preload';

// Tracing first, then the worker (worker-process.ts): see preload.ts.
void startProcessWithTracing('orgms-worker', () => import('./worker-process.js'));
