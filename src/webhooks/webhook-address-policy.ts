import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

export const MAX_WEBHOOK_URL_LENGTH = 2000;

export interface WebhookUrlPolicy {
  /** https only: always in production. */
  httpsOnly: boolean;
  /** WEBHOOK_ALLOW_PRIVATE: any address, the scheme rule still applies. */
  allowPrivate: boolean;
}

/**
 * Loopback, private, shared (CGNAT), link-local (the cloud metadata services at 169.254.169.254
 * and fd00:ec2::254 included), multicast, reserved and documentation ranges: nowhere a webhook
 * of an internet-facing service has business going.
 */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');

const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Whether a webhook may connect to this IP address (v4, v6, or v4 mapped into v6). */
export function isForbiddenAddress(address: string): boolean {
  const mapped = MAPPED_IPV4.exec(address)?.[1];
  if (mapped) return FORBIDDEN.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return true;
  return FORBIDDEN.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Why a URL cannot be a webhook endpoint as written (before any name is resolved), or undefined. */
export function webhookUrlProblem(text: string, policy: WebhookUrlPolicy): string | undefined {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute URL, such as https://hooks.example.com/otp-login';
  }
  if (url.protocol !== 'https:' && (policy.httpsOnly || url.protocol !== 'http:'))
    return policy.httpsOnly ? 'must use https' : 'must use https or http';
  if (!url.hostname) return 'must name a host';
  if (url.username || url.password) return 'must not contain a user name or password';
  if (url.hash) return 'must not contain a fragment (#)';
  const literal = hostAddress(url);
  if (literal && !policy.allowPrivate && isForbiddenAddress(literal))
    return 'must not point to a loopback, private, link-local or metadata address (WEBHOOK_ALLOW_PRIVATE)';
  return undefined;
}

/** The IP address a URL names literally, or undefined for a host name. */
export function hostAddress(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? host : undefined;
}

/** The `code` of the error a guarded lookup fails with. */
export const FORBIDDEN_ADDRESS = 'EWEBHOOKADDRESS';

export class ForbiddenAddressError extends Error {
  readonly code = FORBIDDEN_ADDRESS;
  constructor(readonly host: string) {
    super(`${host} resolves to a loopback, private, link-local or metadata address`);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request: resolves the name, refuses it when any of its addresses is
 * forbidden, and hands the socket exactly the addresses it checked, so nothing can re-resolve the
 * name to another address between the check and the connection (DNS rebinding).
 */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (error, addresses) => {
      if (error) return callback(error, []);
      if (addresses.length === 0)
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      if (!allowPrivate && addresses.some(({ address }) => isForbiddenAddress(address)))
        return callback(new ForbiddenAddressError(hostname), []);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Resolves the URL's host now: why it cannot be used, or undefined. For registration; delivery checks again. */
export async function resolvedUrlProblem(text: string, allowPrivate: boolean): Promise<string | undefined> {
  const url = new URL(text);
  if (hostAddress(url)) return undefined;
  const lookup = guardedLookup(allowPrivate);
  return new Promise((resolve) =>
    lookup(url.hostname, { all: true }, (error) => {
      if (!error) return resolve(undefined);
      resolve(
        error instanceof ForbiddenAddressError
          ? 'must not point to a loopback, private, link-local or metadata address (WEBHOOK_ALLOW_PRIVATE)'
          : 'must name a host that resolves',
      );
    }),
  );
}
