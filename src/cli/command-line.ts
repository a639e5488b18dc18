/** A command line that cannot mean anything: exit 2, the reason, then the usage. */
export class UsageError extends Error {}

/** A well-formed command that cannot be carried out (e.g. an unknown jti): exit 2, the reason alone. */
export class CommandError extends Error {}

const FLAG = /^--([a-z][a-z-]*)(?:=([\s\S]*))?$/;
const OPTION_NAME = /^--?[A-Za-z][\w-]{0,39}$/;

/**
 * `--name value` and `--name=value` pairs, each of the known names at most once. Anything else is
 * refused rather than ignored, so a mistyped `--tll 30d` cannot mint a token with the default.
 * Values are never echoed: an operator may paste a secret in the wrong place.
 */
export function parseFlags<Name extends string>(argv: string[], known: readonly Name[]): Partial<Record<Name, string>> {
  const flags: Partial<Record<Name, string>> = {};
  for (let i = 0; i < argv.length; i++) {
    const match = FLAG.exec(argv[i]);
    if (!match) throw new UsageError(OPTION_NAME.test(argv[i]) ? `unknown option ${argv[i]}` : 'unexpected argument');
    const name = match[1] as Name;
    if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
    if (flags[name] !== undefined) throw new UsageError(`--${name} is given twice`);
    const value = match[2] ?? (argv[i + 1]?.startsWith('--') ? undefined : argv[++i]);
    if (!value) throw new UsageError(`--${name} needs a value`);
    flags[name] = value;
  }
  return flags;
}
