/**
 * REDIS_URL names either one Redis (`redis://…`, `rediss://…`: ioredis reads it as it is) or a
 * Redis Cluster by some of its nodes:
 *
 *   redis+cluster://[user[:password]@]host:port,host:port,…   (`rediss+cluster://`: TLS)
 *
 * Any reachable node is enough for ioredis to find the others; list several so that one being
 * down at start does not matter. A cluster has only database 0, so no path other than `/` is
 * accepted. Credentials go in the first authority, percent-encoded where needed, and apply to
 * every node.
 */
export interface RedisClusterAddress {
  nodes: { host: string; port: number }[];
  username?: string;
  password?: string;
  tls: boolean;
}

const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\//i;
/** What looks like a cluster URL, valid or not: config validation reports its problem instead of a generic one. */
export const LOOKS_LIKE_CLUSTER_URL = /^[a-z0-9.-]*\+cluster:/i;
/** A name (underscores too: container names have them), an IPv4 address or a bracketed IPv6 one. */
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*|\[[0-9A-Fa-f:.]+\])$/;
const DEFAULT_PORT = 6379;

export function isRedisClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url);
}

/** Reads a `redis+cluster://` URL; throws an Error saying what is wrong with it. */
export function parseRedisClusterUrl(url: string): RedisClusterAddress {
  const scheme = CLUSTER_SCHEME.exec(url);
  if (!scheme) throw new Error('the scheme is redis+cluster or rediss+cluster');
  let rest = url.slice(scheme[0].length);
  if (/[?#]/.test(rest)) throw new Error('no query or fragment is allowed');

  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    username = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo) || undefined;
    password = colon >= 0 ? decode(userinfo.slice(colon + 1)) || undefined : undefined;
  }

  const slash = rest.indexOf('/');
  if (slash >= 0) {
    if (!/^\/0?$/.test(rest.slice(slash))) throw new Error('a cluster has only database 0, leave the path out');
    rest = rest.slice(0, slash);
  }
  if (rest === '') throw new Error('no node is listed');
  const nodes = rest.split(',').map(parseNode);
  return { nodes, username, password, tls: scheme[1].toLowerCase() === 'rediss' };
}

function parseNode(authority: string): { host: string; port: number } {
  const match = /^(.*?)(?::(\d+))?$/.exec(authority.trim()) as RegExpExecArray;
  const [, rawHost, rawPort] = match;
  if (!HOST.test(rawHost)) throw new Error(`"${authority}" is not host:port`);
  const port = rawPort === undefined ? DEFAULT_PORT : Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`"${authority}" has no valid port`);
  return { host: rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost, port };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error('the user or password is not valid percent-encoding');
  }
}

/**
 * The key prefix BullMQ (and the keys and channel derived from it) uses. On a cluster the
 * prefix becomes a hash tag, `{orgms}`: BullMQ's Lua scripts touch several keys of a queue at
 * once, and a flow's parent and children several queues, and a cluster runs a script only when
 * all its keys hash to one slot. The whole deployment then lives on one node's slot, which is
 * the price of BullMQ on a cluster; another deployment (another prefix) may live elsewhere.
 */
export function queuePrefixFor(redisUrl: string, prefix: string): string {
  return isRedisClusterUrl(redisUrl) ? `{${prefix}}` : prefix;
}
