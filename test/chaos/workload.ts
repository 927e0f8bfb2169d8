import { createHash } from 'node:crypto';
import { SERVICE_ADMIN_EMAIL, SERVICE_ADMIN_PASSWORD } from '../../harness/service-env';
import { contractViolations } from '../support/contract';
import type { Random } from './random';

/** One request of the workload and its answer (status 0: no answer, the connection failed or timed out). */
export interface Operation {
  seq: number;
  client: number;
  op: OperationKind;
  method: string;
  path: string;
  api: number;
  start: number;
  end: number;
  status: number;
  /** What the checker needs: org id and name, user id, email and role, idempotency key, answer status/detail. */
  args: Record<string, string | undefined>;
  result: Record<string, string | undefined>;
  /** The answer broke the OpenAPI document. */
  contract?: string[];
}

export type OperationKind =
  | 'create'
  | 'create_same_name'
  | 'create_idempotent'
  | 'rename'
  | 'user_create'
  | 'user_update'
  | 'delete'
  | 'restore'
  | 'purge'
  | 'move'
  | 'fleet_migration'
  | 'login'
  | 'read'
  | 'refresh'
  | 'refresh_reuse'
  | 'logout'
  | 'export'
  | 'export_poll'
  | 'export_download';

/**
 * How often each operation is drawn. Refresh tokens and exports took their share from user writes,
 * logins and reads, so the request rate stayed about what it was (the machine has 2 CPUs: overload
 * answers 503 outside the fault windows). A download follows a poll that answered `ready`.
 */
const WEIGHTS: Record<Exclude<OperationKind, 'export_download'>, number> = {
  create: 3,
  create_same_name: 1,
  create_idempotent: 1,
  rename: 5,
  user_create: 11,
  user_update: 6,
  delete: 4,
  restore: 3,
  purge: 3,
  move: 5,
  fleet_migration: 1,
  login: 7,
  read: 6,
  refresh: 3,
  refresh_reuse: 1,
  logout: 1,
  export: 2,
  export_poll: 2,
};

/** Sessions (refresh token families) a client keeps at most; the oldest is forgotten. */
const SESSIONS_PER_CLIENT = 4;

const OWNER_PASSWORD = 'correct horse battery';
const REQUEST_TIMEOUT_MS = 20000;

/** What a client believes about an organization (from answers only): the checker decides from the real state. */
interface KnownOrganization {
  id: string;
  name: string;
  ownerEmail: string;
}

interface KnownUser {
  orgId: string;
  id: string;
  role: 'admin' | 'member';
}

/** An org login's refresh token family, as its client knows it (one client per family: refreshes never race). */
interface Session {
  orgId: string;
  /** `L<seq>`: the login that began the family. */
  family: string;
  token: string;
  /** Tokens of the family answered 200 for (so rotated away): presenting one again is a reuse. */
  rotated: string[];
  /** A refresh got no answer or a 5xx: `token` may have been traded already. */
  uncertain: boolean;
}

/** An export a client asked for and still follows. */
interface PendingExport {
  orgId: string;
  id: string;
}

/** What the answer's body and headers held, beyond what the history keeps. */
interface Answer {
  json: Record<string, unknown>;
  bytes: Buffer;
  headers: Headers;
}

/** How a token appears in the history: never itself, a short digest (enough to tell tokens apart). */
export const tokenDigest = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 16);

/**
 * Seeded clients doing every operation the service offers, through both API replicas, each
 * request and answer appended to one history. Clients share the organizations (so their requests
 * race), while each user is updated only by the client that created it (so its last answered
 * role is well defined).
 */
export class Workload {
  readonly history: Operation[] = [];
  private readonly organizations: KnownOrganization[] = [];
  private seq = 0;
  private names = 0;
  private stopping = false;
  private readonly tokens = new Map<number, string>();

  constructor(
    private readonly apiUrls: string[],
    private readonly label: string,
  ) {}

  /** Runs `clients` clients until stop() is called; resolves when every one has finished its request. */
  run(clients: number, random: Random): Promise<void> {
    return Promise.all(Array.from({ length: clients }, (_, client) => this.client(client, random.fork()))).then(() => undefined);
  }

  stop(): void {
    this.stopping = true;
  }

  private async client(client: number, random: Random): Promise<void> {
    const mine: ClientState = { users: [], sessions: [], exports: [] };
    while (!this.stopping) {
      const kind = random.weighted(WEIGHTS);
      try {
        await this.perform(kind, client, random, mine);
      } catch (error) {
        // A bug of the workload itself must not pass for a service answer.
        console.error(`workload client ${client} (${kind}) failed: ${(error as Error).stack}`);
        throw error;
      }
      await new Promise((resolveSleep) => setTimeout(resolveSleep, random.int(100, 600)));
    }
  }

  private async perform(drawn: OperationKind, client: number, random: Random, mine: ClientState): Promise<void> {
    const { users } = mine;
    const kind = enabled(drawn, mine);
    const org = this.organizations.length > 0 ? random.pick(this.organizations) : undefined;
    const api = () => random.int(0, this.apiUrls.length - 1);
    switch (kind) {
      case 'create':
        return this.create(kind, client, api(), this.newName());
      case 'create_same_name': {
        // Two clients race for one name through both replicas: one 202 and one 409 at most.
        const name = this.newName();
        await Promise.all([this.create(kind, client, 0, name), this.create(kind, client, 1, name)]);
        return;
      }
      case 'create_idempotent': {
        // One key sent twice at once through both replicas, then once more later: one organization.
        const name = this.newName();
        const key = `${this.label.replace(/\W+/g, '-')}-key-${this.seq}`;
        await Promise.all([this.create(kind, client, 0, name, key), this.create(kind, client, 1, name, key)]);
        await this.create(kind, client, api(), name, key);
        return;
      }
      case 'rename': {
        if (!org) return;
        const name = this.newName();
        const op = await this.request(client, kind, api(), 'PATCH', `/organizations/${org.id}`, { organization_name: name }, { org: org.id, name });
        if (op.status === 200) org.name = name;
        return;
      }
      case 'user_create': {
        if (!org) return;
        const email = `u${this.seq}-${client}@chaos.test`;
        const role = random.pick(['admin', 'member'] as const);
        const op = await this.request(
          client,
          kind,
          api(),
          'POST',
          `/organizations/${org.id}/users`,
          { email, password: 'user password 123', role },
          { org: org.id, email, role },
        );
        if (op.status === 201 && op.result.id) users.push({ orgId: org.id, id: op.result.id, role });
        return;
      }
      case 'user_update': {
        if (users.length === 0) return;
        const user = random.pick(users);
        const role = user.role === 'admin' ? 'member' : 'admin';
        const op = await this.request(
          client,
          kind,
          api(),
          'PATCH',
          `/organizations/${user.orgId}/users/${user.id}`,
          { role },
          { org: user.orgId, user: user.id, role },
        );
        if (op.status === 200) user.role = role;
        return;
      }
      case 'delete':
        if (org) await this.request(client, kind, api(), 'DELETE', `/organizations/${org.id}`, undefined, { org: org.id });
        return;
      case 'restore':
        if (org) await this.request(client, kind, api(), 'POST', `/organizations/${org.id}/restore`, {}, { org: org.id });
        return;
      case 'purge':
        if (org) await this.request(client, kind, api(), 'DELETE', `/organizations/${org.id}?purge=true`, undefined, { org: org.id });
        return;
      case 'move': {
        if (!org) return;
        const server = random.pick(['default', 'pg-b']);
        await this.request(client, kind, api(), 'POST', `/organizations/${org.id}/move`, { database_server: server }, { org: org.id, server });
        return;
      }
      case 'fleet_migration':
        await this.request(client, kind, api(), 'POST', '/migrations/runs', undefined, {});
        return;
      case 'login': {
        if (!org) return;
        let refreshToken: string | undefined;
        const op = await this.request(
          client,
          kind,
          api(),
          'POST',
          '/admin/login',
          { organization_id: org.id, email: org.ownerEmail, password: OWNER_PASSWORD },
          { org: org.id },
          { auth: false, inspect: (answer) => (refreshToken = stringOf(answer.json.refresh_token)) },
        );
        if (op.status === 200 && refreshToken) {
          op.result.family = `L${op.seq}`;
          op.result.refresh = tokenDigest(refreshToken);
          mine.sessions.push({ orgId: org.id, family: `L${op.seq}`, token: refreshToken, rotated: [], uncertain: false });
          if (mine.sessions.length > SESSIONS_PER_CLIENT) mine.sessions.shift();
        }
        return;
      }
      case 'read':
        if (org) await this.request(client, kind, api(), 'GET', `/organizations/${org.id}`, undefined, { org: org.id });
        return;
      case 'refresh': {
        if (mine.sessions.length === 0) return;
        await this.refresh(client, kind, api(), random.pick(mine.sessions), mine, 'current');
        return;
      }
      case 'refresh_reuse': {
        // A token answered 200 for is presented again: 401, and the family ends, its newest token too.
        const candidates = mine.sessions.filter((s) => s.rotated.length > 0 && !s.uncertain);
        if (candidates.length === 0) return;
        const session = random.pick(candidates);
        const reuse = await this.refresh(client, kind, api(), session, mine, 'rotated', random.pick(session.rotated));
        if (reuse.status === 401) await this.refresh(client, kind, api(), session, mine, 'newest');
        forget(mine.sessions, session);
        return;
      }
      case 'logout': {
        if (mine.sessions.length === 0) return;
        const session = random.pick(mine.sessions);
        const op = await this.request(
          client,
          kind,
          api(),
          'POST',
          '/auth/logout',
          { refresh_token: session.token },
          { org: session.orgId, family: session.family, token: tokenDigest(session.token) },
          { auth: false },
        );
        // The token of a family logged out is refused (401) from now on.
        if (op.status === 204) await this.refresh(client, 'refresh', api(), session, mine, 'logged_out');
        forget(mine.sessions, session);
        return;
      }
      case 'export': {
        if (!org) return;
        const op = await this.request(client, kind, api(), 'POST', `/organizations/${org.id}/exports`, undefined, { org: org.id });
        if (op.status === 202 && op.result.id) mine.exports.push({ orgId: org.id, id: op.result.id });
        return;
      }
      case 'export_poll':
      case 'export_download': {
        if (mine.exports.length === 0) return;
        const wanted = random.pick(mine.exports);
        const op = await this.request(client, 'export_poll', api(), 'GET', `/organizations/${wanted.orgId}/exports/${wanted.id}`, undefined, {
          org: wanted.orgId,
          export: wanted.id,
        });
        if (op.status === 200 && op.result.status === 'ready') {
          const download = await this.download(client, api(), wanted);
          if (download.status !== 0 && download.status < 500) forget(mine.exports, wanted);
        } else if (op.status === 404 || (op.status === 200 && ['failed', 'expired'].includes(op.result.status as string))) forget(mine.exports, wanted);
        return;
      }
    }
  }

  /**
   * One refresh of `session` (`presented`: its current token, a rotated-away one, or its newest
   * after a reuse), recorded with the family and the token's digest, and whether it was rotated.
   */
  private async refresh(
    client: number,
    kind: OperationKind,
    api: number,
    session: Session,
    mine: ClientState,
    presented: 'current' | 'rotated' | 'newest' | 'logged_out',
    token = session.token,
  ): Promise<Operation> {
    let next: string | undefined;
    const op = await this.request(
      client,
      kind,
      api,
      'POST',
      '/auth/refresh',
      { refresh_token: token },
      { org: session.orgId, family: session.family, token: tokenDigest(token), presented },
      { auth: false, inspect: (answer) => (next = stringOf(answer.json.refresh_token)) },
    );
    if (presented !== 'current') return op;
    if (op.status === 200 && next) {
      op.result.rotated = next !== token ? 'yes' : 'no';
      op.result.refresh = tokenDigest(next);
      session.rotated.push(token);
      session.token = next;
      session.uncertain = false;
    } else if (ambiguous(op)) session.uncertain = true;
    else if (op.status === 401) forget(mine.sessions, session);
    return op;
  }

  /** The file of a ready export: its length must be its Content-Length, its SHA-256 the `Repr-Digest`. */
  private async download(client: number, api: number, wanted: PendingExport): Promise<Operation> {
    return this.request(
      client,
      'export_download',
      api,
      'GET',
      `/organizations/${wanted.orgId}/exports/${wanted.id}/download`,
      undefined,
      { org: wanted.orgId, export: wanted.id },
      {
        inspect: (answer, op) => {
          if (op.status !== 200) return;
          op.result.bytes = String(answer.bytes.length);
          op.result.content_length = answer.headers.get('content-length') ?? undefined;
          op.result.repr_digest = answer.headers.get('repr-digest') ?? undefined;
          op.result.sha256 = createHash('sha256').update(answer.bytes).digest('hex');
        },
      },
    );
  }

  private newName(): string {
    this.names += 1;
    return `${this.label} org ${this.names}`;
  }

  private async create(kind: OperationKind, client: number, api: number, name: string, key?: string): Promise<void> {
    // From the name, so that every create of one name (a race, a repeated key) sends the same body.
    const ownerEmail = `owner-${name.split(' ').pop()}@chaos.test`;
    const op = await this.request(
      client,
      kind,
      api,
      'POST',
      '/organizations',
      { organization_name: name, email: ownerEmail, password: OWNER_PASSWORD },
      { name, key },
      { headers: key ? { 'idempotency-key': key } : {} },
    );
    if (op.status === 202 && op.result.id && !this.organizations.some((o) => o.id === op.result.id)) {
      this.organizations.push({ id: op.result.id, name, ownerEmail });
    }
  }

  /**
   * Sends one request, records it and its answer in the history (a platform admin token unless
   * `auth` is false); `inspect` sees the whole answer (body, bytes, headers) before it is returned.
   */
  private async request(
    client: number,
    op: OperationKind,
    api: number,
    method: string,
    path: string,
    body: unknown,
    args: Record<string, string | undefined>,
    options: { auth?: boolean; headers?: Record<string, string>; inspect?: (answer: Answer, op: Operation) => void } = {},
  ): Promise<Operation> {
    const auth = options.auth ?? true;
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (auth) headers.authorization = `Bearer ${await this.token(client)}`;
    this.seq += 1;
    const entry: Operation = { seq: this.seq, client, op, method, path, api, start: Date.now(), end: 0, status: 0, args, result: {} };
    this.history.push(entry);
    try {
      const res = await fetch(`${this.apiUrls[api]}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      const text = bytes.toString('utf8');
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      entry.status = res.status;
      entry.end = Date.now();
      const answer = (json ?? {}) as Record<string, unknown>;
      entry.result = {
        id: typeof answer.id === 'string' ? answer.id : undefined,
        status: typeof answer.status === 'string' ? answer.status : undefined,
        detail: typeof answer.detail === 'string' ? answer.detail : undefined,
      };
      const violations = contractViolations({ method, url: path, status: res.status, headers: Object.fromEntries(res.headers.entries()), body: json, text });
      if (violations.length > 0) entry.contract = violations;
      if (res.status === 401 && auth) this.tokens.delete(client);
      options.inspect?.({ json: answer, bytes, headers: res.headers }, entry);
    } catch (error) {
      entry.end = Date.now();
      entry.result = { error: (error as Error).message };
    }
    return entry;
  }

  /** Each client's platform admin token (tokens expire: a 401 makes the client log in again). */
  private async token(client: number): Promise<string> {
    const known = this.tokens.get(client);
    if (known) return known;
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${this.apiUrls[attempt % this.apiUrls.length]}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: SERVICE_ADMIN_EMAIL, password: SERVICE_ADMIN_PASSWORD }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      }).catch(() => undefined);
      if (res?.status === 200) {
        const token = ((await res.json()) as { access_token: string }).access_token;
        this.tokens.set(client, token);
        return token;
      }
      await new Promise((resolveSleep) => setTimeout(resolveSleep, 500));
    }
  }
}

/** What one client holds: the users it created, its sessions, the exports it follows. */
interface ClientState {
  users: KnownUser[];
  sessions: Session[];
  exports: PendingExport[];
}

/**
 * The operation a client does when it draws `kind`: one that needs what the client does not hold
 * yet does what gets it instead (a session: a login; a rotated-away token: a refresh; an export
 * to follow: an export), so a draw is a request, as the other operations' draws are.
 */
function enabled(kind: OperationKind, mine: ClientState): OperationKind {
  if (['refresh', 'refresh_reuse', 'logout'].includes(kind) && mine.sessions.length === 0) return 'login';
  if (kind === 'refresh_reuse' && !mine.sessions.some((s) => s.rotated.length > 0 && !s.uncertain)) return 'refresh';
  if (kind === 'export_poll' && mine.exports.length === 0) return 'export';
  return kind;
}

/** Did the request get no answer, or a 5xx: then it may or may not have happened. */
export const ambiguous = (op: Operation) => op.status === 0 || op.status >= 500;

const stringOf = (value: unknown) => (typeof value === 'string' ? value : undefined);

function forget<T>(items: T[], item: T): void {
  const index = items.indexOf(item);
  if (index >= 0) items.splice(index, 1);
}
