import { newPasswordSchema } from '@orgms/common/sign-in/password-policy';
import Joi from 'joi';
import { parseArgs } from './args';

const COMMANDS = ['create', 'password', 'deactivate', 'activate', 'remove'] as const;
type Command = (typeof COMMANDS)[number];

export type PlatformAdminCommand =
  | { command: 'create' | 'password'; email: string; password: string }
  | { command: 'deactivate' | 'activate' | 'remove'; email: string };

const email = Joi.string().email({ tlds: false }).max(254).required();
// The API's rule, from the same module: a password the API would refuse is refused here too.
const password = newPasswordSchema.required();

const schemas: Record<Command, Joi.ObjectSchema> = {
  create: Joi.object({ email, password }),
  password: Joi.object({ email, password }),
  deactivate: Joi.object({ email }),
  activate: Joi.object({ email }),
  remove: Joi.object({ email }),
};

/** `create --email a@b.c --password …` → the command, checked; an Error that shows the usage otherwise. */
export function parsePlatformAdminCommand(argv: string[]): PlatformAdminCommand {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as Command)) throw new Error(`unknown command "${command ?? ''}"; one of: ${COMMANDS.join(', ')}`);
  const { value, error } = schemas[command as Command].validate(parseArgs(rest), { stripUnknown: true });
  if (error) {
    const usage = `npm run admin:${command} -- --email <email>${command === 'create' || command === 'password' ? ' --password <password>' : ''}`;
    throw new Error(`${error.message}. Usage: ${usage}`);
  }
  return { command, ...value } as PlatformAdminCommand;
}
