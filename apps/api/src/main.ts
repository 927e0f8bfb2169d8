import { startProcessWithTracing } from '@orgms/common/tracing/preload';

// Tracing first, then the API (api-process.ts): see preload.ts.
void startProcessWithTracing('orgms-api', () => import('./api-process.js'));
