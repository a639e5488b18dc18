import { Matches } from 'class-validator';

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const NO_CONTROL_CHARACTERS = new RegExp(`^[^${CONTROL_CHARACTERS.source.slice(1, -1)}]*$`);

export function hasControlCharacters(value: string): boolean {
  return CONTROL_CHARACTERS.test(value);
}

/**
 * Client text for a column of `maxLength` characters: control characters shown as \uXXXX (never
 * raw, in logs or the audit trail), escaped first and then cut, so escaping can never push it past
 * the column; the cut never splits an escape or a surrogate pair.
 */
export function storableText(value: string, maxLength: number): string {
  let stored = '';
  for (const char of value.toWellFormed()) {
    const piece = CONTROL_CHARACTERS.test(char) ? escapeCharacter(char) : char;
    if (stored.length + piece.length > maxLength) break;
    stored += piece;
  }
  return stored;
}

function escapeCharacter(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** C0, DEL, C1 and the Unicode line separators are refused in any text field. */
export function NoControlCharacters(field: string): PropertyDecorator {
  return Matches(NO_CONTROL_CHARACTERS, { message: `${field} must not contain control characters` });
}

/** Nesting depth of a parsed JSON value, measured without recursion. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return deepest;
}

/**
 * True when every string and key can be stored in any of our databases: PostgreSQL's jsonb
 * refuses NUL characters and unpaired surrogates.
 */
export function isStorableJson(value: unknown): boolean {
  return findText(value, (text) => !text.isWellFormed() || text.includes('\u0000')) === undefined;
}

/**
 * Where in a parsed body or query the first string or key with an unpaired surrogate is ('' for
 * the value itself), or undefined when there is none. Such text cannot be encoded as UTF-8:
 * validators throw on it and databases refuse it.
 */
export function findIllFormedText(value: unknown): string | undefined {
  return findText(value, (text) => !text.isWellFormed());
}

/** The path of the first string or key that `isBad`, walking without recursion. */
function findText(value: unknown, isBad: (text: string) => boolean): string | undefined {
  const pending: [unknown, string][] = [[value, '']];
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string' && isBad(current)) return path;
    if (typeof current !== 'object' || current === null) continue;
    for (const [key, child] of Object.entries(current)) {
      if (isBad(key)) return path;
      pending.push([child, path ? `${path}.${key}` : key]);
    }
  }
  return undefined;
}
