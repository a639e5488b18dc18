import { SigningKeys } from '../auth/signing-keys';
import { TokensService } from '../auth/tokens.service';
import { VerifiedTokens } from '../auth/verified-tokens';
import { AppConfig } from '../config/app-config';
import { SystemClock } from '../common/clock';

const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
const SCOPE = /^[A-Za-z0-9:._-]{1,64}$/;
const TTL = /^(\d+)([smhd]?)$/;
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };
const MAX_TTL_SECONDS = 366 * 86_400;

export class UsageError extends Error {}

/** `token --service NAME --scope "a:b c:d" --ttl 1h`: an access token for an internal service. */
export function mintServiceToken(args: Record<string, string | undefined>, config: AppConfig, keys: SigningKeys): string {
  const service = args.service ?? '';
  if (!SERVICE_NAME.test(service)) throw new UsageError('--service must be a name of letters, digits, . _ - (at most 64)');
  const scopes = (args.scope ?? '').split(/\s+/).filter(Boolean);
  if (scopes.length === 0 || !scopes.every((scope) => SCOPE.test(scope))) throw new UsageError('--scope must list one or more scopes, space separated, e.g. "audit:read users:read"');
  const ttl = TTL.exec(args.ttl ?? '1h');
  const ttlSeconds = ttl ? Number(ttl[1]) * UNIT_SECONDS[ttl[2]] : NaN;
  if (!(ttlSeconds > 0 && ttlSeconds <= MAX_TTL_SECONDS)) throw new UsageError('--ttl must be a duration such as 900, 15m, 1h or 30d (at most 366d)');
  const tokens = new TokensService(keys, new VerifiedTokens(), config, new SystemClock());
  return tokens.signAccessToken({ subject: `service:${service}`, scope: scopes.join(' ') }, ttlSeconds).token;
}
