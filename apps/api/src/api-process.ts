import { createServer } from 'node:http';
import { loadConfigOrExit } from '@orgms/common/config';
import { createLogger } from '@orgms/common/logger';
import { stopOnSignals } from '@orgms/common/process/shutdown';
import { withTimeout } from '@orgms/common/process/timeout';
import { startApiRuntime } from './api-runtime';
import { clientErrorResponse } from './http/problem';

const config = loadConfigOrExit();
const logger = createLogger('api', config.runtime.logLevel);
const runtime = startApiRuntime(config, logger);
runtime.ready.catch((error) => logger.error('api failed to prepare the control database', { error }));

const server = createServer(runtime.app);
server.on('error', (error: NodeJS.ErrnoException) => {
  logger.error(error.code === 'EADDRINUSE' ? `port ${config.http.port} is already in use; set PORT` : 'http server error', { error: error.message });
  process.exit(1);
});
// Node refuses a malformed request or one whose head is too large (431) before Express sees it;
// answer that in our own format too, and without leaking the parser's message.
server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
  if (error.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  socket.end(clientErrorResponse(tooLarge ? 431 : 400, tooLarge ? 'The request head (URL and headers) is too large.' : 'The request could not be read.'));
});
server.listen(config.http.port, () => logger.info('api listening', { port: config.http.port }));

stopOnSignals(async () => {
  // New connections stop first; keep-alive connections are closed once idle.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const clean = await withTimeout(closed, config.runtime.shutdownTimeoutMs, 'closing the HTTP server').then(
    () => true,
    () => false,
  );
  server.closeAllConnections();
  return (await runtime.stop()) && clean;
}, logger);
