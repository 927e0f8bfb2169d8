import { registerBody } from '@orgms/api/sign-in/auth.schemas';
import { parsePlatformAdminCommand } from '@orgms/cli/platform-admin-command';
import { loadConfig } from '@orgms/common/config';
import { expect } from 'chai';

/** The three places a password is set: an API body, the operator command, the bootstrap admin's variable. */
const SETTERS = {
  'the API (POST /auth/register)': (password: string) => {
    const { error } = registerBody.validate({ email: 'admin@platform.test', password }, { errors: { wrap: { label: false } } });
    if (error) throw error;
  },
  'npm run admin:create': (password: string) => {
    parsePlatformAdminCommand(['create', '--email', 'admin@platform.test', '--password', password]);
  },
  BOOTSTRAP_ADMIN_PASSWORD: (password: string) => {
    loadConfig({ BOOTSTRAP_ADMIN_EMAIL: 'admin@platform.test', BOOTSTRAP_ADMIN_PASSWORD: password });
  },
};

describe('Password policy: one rule wherever a password is set', () => {
  for (const [where, set] of Object.entries(SETTERS)) {
    it(`when a password of 40 two-byte characters (80 bytes) is set through ${where}, then it is refused for its bytes`, () => {
      const password = 'é'.repeat(40);
      expect(password).to.have.length(40);
      expect(() => set(password)).to.throw(/must be at most 72 bytes/);
    });

    it(`when a password of exactly 72 bytes (36 two-byte characters) is set through ${where}, then it is accepted`, () => {
      expect(() => set('é'.repeat(36))).not.to.throw();
    });

    it(`when a password is shorter than 8 characters through ${where}, then it is refused`, () => {
      expect(() => set('seven77')).to.throw(/at least 8 characters/);
    });
  }
});
