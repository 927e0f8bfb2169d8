import {
  type Config,
  createPlatformAdmin,
  dummyPasswordHash,
  findPlatformAdminWithHash,
  type PlatformAdmin,
  UnauthorizedError,
  verifyPassword,
} from '@orgms/common';
import type { DataSource } from 'typeorm';
import type { IssuedToken, TokenIssuer } from '../auth/tokens';

export const INVALID_CREDENTIALS = 'The email or password is not correct.';

export class AuthService {
  constructor(
    private readonly controlDb: DataSource,
    private readonly tokens: TokenIssuer,
    private readonly config: Config,
  ) {}

  /** Platform admin login. Unknown email and wrong password cost the same bcrypt compare and give the same 401. */
  async loginPlatformAdmin(email: string, password: string): Promise<IssuedToken & { user: { id: string; email: string; role: 'platform_admin' } }> {
    const admin = await findPlatformAdminWithHash(this.controlDb, email);
    const matches = await verifyPassword(password, admin?.passwordHash ?? (await dummyPasswordHash(this.config.bcryptRounds)));
    if (!admin || !matches) throw new UnauthorizedError(INVALID_CREDENTIALS);
    return { ...this.tokens.issue({ sub: admin.id, role: 'platform_admin' }), user: { id: admin.id, email: admin.email, role: 'platform_admin' } };
  }

  registerPlatformAdmin(email: string, password: string): Promise<PlatformAdmin> {
    return createPlatformAdmin(this.controlDb, email, password, this.config.bcryptRounds);
  }
}
