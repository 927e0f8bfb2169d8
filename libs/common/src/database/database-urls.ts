/** The same server and role as `url`, pointed at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** `postgres://u@h:5432/db?x` → `postgres://u@h:5432/postgres?x`: the server's maintenance database. */
export function serverOf(databaseUrl: string): string {
  return withDatabase(databaseUrl, 'postgres');
}

/** The database name a connection URL points at. */
export function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}
