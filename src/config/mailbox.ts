import { isEmail } from 'class-validator';

export interface Mailbox {
  name: string;
  address: string;
}

/** `"Name" <address>` (with `\"` and `\\` escapes) or `Name <address>`. */
const NAME_ADDR = /^(?:"((?:[^"\\]|\\.)*)"|([^"<>]*?))\s*<([^<>\s]+)>$/;

/**
 * One mailbox as MAIL_DEFAULT_SENDER is written: `address`, `Name <address>` or
 * `"Name" <address>`; undefined when the value is not exactly one of those.
 */
export function parseMailbox(value: string): Mailbox | undefined {
  const text = value.trim();
  // eslint-disable-next-line no-control-regex -- a sender with control characters is refused
  if (/[\x00-\x1f\x7f]/.test(text)) return undefined;
  const named = NAME_ADDR.exec(text);
  const address = named ? named[3] : text;
  if (!isEmail(address, { require_tld: false })) return undefined;
  const name = !named ? '' : named[1] !== undefined ? named[1].replace(/\\(.)/g, '$1') : named[2].trim();
  return { name, address };
}

export function isMailbox(value: string): boolean {
  return parseMailbox(value) !== undefined;
}
