/** Who is calling, as read from a verified token. `org` is absent for platform admins. */
export type Role = 'platform_admin' | 'org_admin' | 'member';

export interface Principal {
  sub: string;
  role: Role;
  org?: string;
  /** The user's token version when the token was issued (org users only). */
  ver?: number;
}
