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
  | 'read';

const WEIGHTS: Record<OperationKind, number> = {
  create: 3,
  create_same_name: 1,
  create_idempotent: 1,
  rename: 5,
  user_create: 16,
  user_update: 8,
  delete: 4,
  restore: 3,
  purge: 3,
  move: 5,
  fleet_migration: 1,
  login: 8,
  read: 8,
};

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
    const users: KnownUser[] = [];
    while (!this.stopping) {
      const kind = random.weighted(WEIGHTS);
      try {
        await this.perform(kind, client, random, users);
      } catch (error) {
        // A bug of the workload itself must not pass for a service answer.
        console.error(`workload client ${client} (${kind}) failed: ${(error as Error).stack}`);
        throw error;
      }
      await new Promise((resolveSleep) => setTimeout(resolveSleep, random.int(100, 600)));
    }
  }

  private async perform(kind: OperationKind, client: number, random: Random, users: KnownUser[]): Promise<void> {
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
      case 'login':
        if (org)
          await this.request(
            client,
            kind,
            api(),
            'POST',
            '/admin/login',
            { organization_id: org.id, email: org.ownerEmail, password: OWNER_PASSWORD },
            { org: org.id },
            false,
          );
        return;
      case 'read':
        if (org) await this.request(client, kind, api(), 'GET', `/organizations/${org.id}`, undefined, { org: org.id });
        return;
    }
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
      true,
      key ? { 'idempotency-key': key } : {},
    );
    if (op.status === 202 && op.result.id && !this.organizations.some((o) => o.id === op.result.id)) {
      this.organizations.push({ id: op.result.id, name, ownerEmail });
    }
  }

  /** Sends one request, records it and its answer in the history (a platform admin token unless `auth` is false). */
  private async request(
    client: number,
    op: OperationKind,
    api: number,
    method: string,
    path: string,
    body: unknown,
    args: Record<string, string | undefined>,
    auth = true,
    extraHeaders: Record<string, string> = {},
  ): Promise<Operation> {
    const headers: Record<string, string> = { ...extraHeaders };
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
      const text = await res.text();
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
