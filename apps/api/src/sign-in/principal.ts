/** Who is calling, as read from a verified token. `org` is absent for platform admins. */
export type Role = 'platform_admin' | 'org_admin' | 'member';

export interface Principal {
  sub: string;
  role: Role;
  org?: string;
  /** The token version of the user or platform admin when the token was issued; bumping it revokes. */
  ver?: number;
  /** An org user's: its organization's session generation when the token was issued (absent = 0); a delete replaces it. */
  gen?: number;
}
