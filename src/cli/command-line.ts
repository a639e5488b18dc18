/** A command line that cannot mean anything: exit 2, the reason, then the usage. */
export class UsageError extends Error {}

/** A well-formed command that cannot be carried out (e.g. an unknown jti): exit 2, the reason alone. */
export class CommandError extends Error {}

const FLAG = /^--([a-z][a-z-]*)(?:=([\s\S]*))?$/;
const OPTION_NAME = /^--?[A-Za-z][\w-]{0,39}$/;

export interface FlagRules<Name extends string> {
  /** May be given more than once: every value is kept, in order. */
  repeatable?: readonly Name[];
  /** Take no value: given or not. */
  switches?: readonly Name[];
}

/**
 * `--name value` and `--name=value` pairs, each of the known names at most once unless it is
 * repeatable, and switches alone. Anything else is refused rather than ignored, so a mistyped
 * `--tll 30d` cannot mint a token with the default. Values are never echoed: an operator may
 * paste a secret in the wrong place.
 */
export function parseFlagLists<Name extends string>(
  argv: string[],
  known: readonly Name[],
  { repeatable = [], switches = [] }: FlagRules<Name> = {},
): Partial<Record<Name, string[]>> {
  const flags: Partial<Record<Name, string[]>> = {};
  for (let i = 0; i < argv.length; i++) {
    const match = FLAG.exec(argv[i]);
    if (!match) throw new UsageError(OPTION_NAME.test(argv[i]) ? `unknown option ${argv[i]}` : 'unexpected argument');
    const name = match[1] as Name;
    if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
    if (flags[name] !== undefined && !repeatable.includes(name)) throw new UsageError(`--${name} is given twice`);
    if (switches.includes(name)) {
      if (match[2] !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name] = [];
      continue;
    }
    const value = match[2] ?? (argv[i + 1]?.startsWith('--') ? undefined : argv[++i]);
    if (!value) throw new UsageError(`--${name} needs a value`);
    flags[name] = [...(flags[name] ?? []), value];
  }
  return flags;
}

/** Flags that each take one value, given at most once. */
export function parseFlags<Name extends string>(argv: string[], known: readonly Name[]): Partial<Record<Name, string>> {
  const lists = parseFlagLists(argv, known);
  return Object.fromEntries(Object.entries(lists).map(([name, values]) => [name, (values as string[])[0]])) as Partial<
    Record<Name, string>
  >;
}
