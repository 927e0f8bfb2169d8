import type { HttpConfig } from '@orgms/common/config';
import type { RequestHandler, Router } from 'express';
import { bullBoard } from './bull-board';
import { type ApiMetricsSources, apiMetrics } from './metrics';
import type { OperatorAuthDeps } from './operator-auth';

export interface OperatorTools {
  /** Times every request for the duration histogram; mount first. */
  observe: RequestHandler;
  routers: Router[];
}

export type OperatorDeps = OperatorAuthDeps & Omit<ApiMetricsSources, 'metricsToken'> & { http: Pick<HttpConfig, 'publicUrl' | 'metricsToken'> };

/** Bull Board and /metrics, both over this process's queue handles. */
export function operatorTools(deps: OperatorDeps): OperatorTools {
  const metrics = apiMetrics({ ...deps, metricsToken: deps.http.metricsToken });
  return { observe: metrics.observe, routers: [metrics.router, bullBoard(deps)] };
}
