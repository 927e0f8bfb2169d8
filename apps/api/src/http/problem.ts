import type { Response } from 'express';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  requestId?: string;
  [extension: string]: unknown;
}

/** RFC 9457 `type` of one of our problems: stable, one per error code. */
export function problemType(code: string): string {
  return `https://orgms.dev/problems/${code}`;
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

/**
 * A whole raw HTTP/1.1 answer for a request Node's parser refused before Express saw it (a head
 * over the size limit, a malformed request line): the same problem+json as every other error.
 */
export function clientErrorResponse(status: 400 | 431, detail: string): string {
  const title = status === 431 ? 'Request header fields too large' : 'Bad request';
  const body = JSON.stringify({ type: problemType(status === 431 ? 'request-head-too-large' : 'bad-request'), title, status, detail });
  return [
    `HTTP/1.1 ${status} ${title}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}
