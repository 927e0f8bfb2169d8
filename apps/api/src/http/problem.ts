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
