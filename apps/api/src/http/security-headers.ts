import type { HttpConfig } from '@orgms/common/config';
import type { Request, RequestHandler, Response } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

type CspDirectives = NonNullable<Exclude<HelmetOptions['contentSecurityPolicy'], boolean | undefined>['directives']>;

/**
 * Whether this answer belongs to an HTTPS deployment: the request reached us over TLS as Express
 * sees it (`req.secure`, which believes X-Forwarded-Proto only from the proxies TRUST_PROXY
 * names), or PUBLIC_URL says clients use https. Set by `securityHeaders` for later page policies.
 */
export function servesHttps(res: Response): boolean {
  return res.locals.servesHttps === true;
}

/**
 * Helmet's headers, minus those that assume HTTPS when the deployment does not serve it.
 * Over plain http by hostname they do harm or nothing:
 * - CSP `upgrade-insecure-requests` makes the browser fetch every script and style of the
 *   page over https, which fails, so /docs rendered blank;
 * - Strict-Transport-Security is ignored over http and would pin a name to https that has none;
 * - Cross-Origin-Opener-Policy and Origin-Agent-Cluster only apply to potentially trustworthy
 *   origins (https, localhost); elsewhere Chromium ignores them and says so in the console.
 * The remaining defaults (nosniff, frame and referrer policies, CORP, the rest of the CSP)
 * work over http too and are always sent.
 */
function helmetFor(https: boolean): RequestHandler {
  return helmet({
    contentSecurityPolicy: { directives: { upgradeInsecureRequests: https ? [] : null } },
    strictTransportSecurity: https,
    crossOriginOpenerPolicy: https,
    originAgentCluster: https,
  }) as RequestHandler;
}

/**
 * The headers a helmet middleware sets, recorded once. Helmet's API-wide headers depend on its
 * options only, never on the request, and running its dozen middlewares on every request cost
 * more than the rest of a status read.
 */
function headersOf(middleware: RequestHandler): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.push([name, String(value)]),
    removeHeader: () => undefined,
    getHeader: () => undefined,
  };
  let done = false;
  middleware({ method: 'GET', url: '/', headers: {} } as Request, recorder as unknown as Response, () => {
    done = true;
  });
  if (!done) throw new Error('helmet did not finish synchronously; its headers cannot be recorded');
  return headers;
}

/** The API-wide security headers; mount before every route. */
export function securityHeaders(http: Pick<HttpConfig, 'publicUrl'>): RequestHandler {
  const publicHttps = http.publicUrl !== undefined && new URL(http.publicUrl).protocol === 'https:';
  const overHttps = headersOf(helmetFor(true));
  const overHttp = headersOf(helmetFor(false));
  return (req: Request, res, next) => {
    const https = publicHttps || req.secure;
    res.locals.servesHttps = https;
    for (const [name, value] of https ? overHttps : overHttp) res.setHeader(name, value);
    next();
  };
}

/**
 * Replaces the API-wide Content-Security-Policy for one page that needs more (ReDoc's blob:
 * worker, Bull Board's inline styles): helmet's defaults plus `directives`, keeping the
 * https-only `upgrade-insecure-requests` rule of `securityHeaders`, which must run first.
 */
export function pageContentSecurityPolicy(directives: CspDirectives): RequestHandler {
  const build = (https: boolean) =>
    helmet.contentSecurityPolicy({ directives: { ...directives, upgradeInsecureRequests: https ? [] : null } }) as RequestHandler;
  const overHttps = build(true);
  const overHttp = build(false);
  return (req, res, next) => (servesHttps(res) ? overHttps : overHttp)(req, res, next);
}
