import type { RequestHandler, Router } from 'express';
import type { AppContext } from '../app-context';
import { bullBoard } from './bull-board';
import { apiMetrics } from './metrics';

export interface OperatorTools {
  /** Times every request for the duration histogram; mount first. */
  observe: RequestHandler;
  routers: Router[];
}

/** Bull Board and /metrics over the context's queue handles. */
export function operatorTools(ctx: AppContext): OperatorTools {
  const metrics = apiMetrics(ctx, ctx.observedQueues);
  return { observe: metrics.observe, routers: [metrics.router, bullBoard(ctx, ctx.observedQueues)] };
}
