/** What a token is checked against on every request: the account's row, if it still exists. */
export interface AccountAuthState {
  isActive: boolean;
  tokenVersion: number;
}

/**
 * The one revocation rule, for organization users and platform admins alike: a token holds
 * while its account exists, is active and still has the token version the token was issued at.
 */
export function holdsTokenVersion(state: AccountAuthState | null, tokenVersion: number | undefined): boolean {
  return state?.isActive === true && state.tokenVersion === tokenVersion;
}
