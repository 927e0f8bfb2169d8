import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@orgms/common/logger';
import { expect } from 'chai';
import express from 'express';
import { errorHandler } from '../../apps/api/src/http/error-handler';

describe('An error after the answer started (error-handler.ts)', () => {
  it('when a route fails after its headers were sent, then the connection is cut and no problem is written over the answer', async () => {
    const logger = createLogger('test', 'error');
    logger.silent = true;
    const app = express();
    app.get('/download', async (_req, res) => {
      res.setHeader('Content-Length', '100');
      res.write('partial');
      throw new Error('the file could not be read');
    });
    app.use(errorHandler(logger));
    const server = app.listen(0);
    // Without the rule, the handler's own answer fails (headers already sent) and Express prints that second error.
    const printed: unknown[] = [];
    const consoleError = console.error;
    console.error = (...args: unknown[]) => printed.push(args);
    try {
      const { port } = server.address() as AddressInfo;
      const outcome = await new Promise<{ status: number; body: string; cut: boolean }>((resolve, reject) => {
        httpRequest({ port, path: '/download' }, (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, cut: true }));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cut: false }));
        })
          .on('error', reject)
          .end();
      });
      expect(outcome).to.deep.equal({ status: 200, body: 'partial', cut: true });
      expect(printed).to.deep.equal([]);
    } finally {
      console.error = consoleError;
      server.close();
    }
  });
});
