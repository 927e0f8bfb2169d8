/** `--email a --password b` → { email: 'a', password: 'b' }; enough for these small commands. */
export function parseArgs(argv: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!match) continue;
    args[match[1]] = match[2] ?? argv[++i] ?? '';
  }
  return args;
}
