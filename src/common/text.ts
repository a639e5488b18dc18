import { Matches } from 'class-validator';

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTROL_CHARACTERS_ALL = new RegExp(CONTROL_CHARACTERS.source, 'g');
const NO_CONTROL_CHARACTERS = new RegExp(`^[^${CONTROL_CHARACTERS.source.slice(1, -1)}]*$`);

export function hasControlCharacters(value: string): boolean {
  return CONTROL_CHARACTERS.test(value);
}

/** Shows control characters from client input as \uXXXX, never raw (logs, audit). */
export function escapeControlCharacters(value: string): string {
  return value.replace(CONTROL_CHARACTERS_ALL, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
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
  const pending: unknown[] = [value];
  const storable = (text: string) => text.isWellFormed() && !text.includes('\u0000');
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current === 'string' && !storable(current)) return false;
    if (typeof current !== 'object' || current === null) continue;
    for (const [key, child] of Object.entries(current)) {
      if (!storable(key)) return false;
      pending.push(child);
    }
  }
  return true;
}
