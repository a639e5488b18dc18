import { Injectable } from '@nestjs/common';
import { SERVICE_SCOPES, ServiceScope, isServiceScope } from '../common/service-scopes';
import { ServiceToken } from '../auth/service-token.entity';
import { SERVICE_TOKEN_JTI, ServiceTokensService } from '../auth/service-tokens.service';
import { CommandError, parseFlags, UsageError } from './command-line';

const SERVICE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
const SHOWN_SCOPE = /^[A-Za-z0-9:._-]{1,64}$/;
const TTL = /^(\d+)([smhd]?)$/;
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };
const MAX_TTL_SECONDS = 366 * 86_400;

export interface MintRequest {
  service: string;
  scopes: ServiceScope[];
  ttlSeconds: number;
}

/** The arguments of `token --service NAME --scope "a:b c:d" [--ttl 1h]`. */
export function parseMintArguments(argv: string[]): MintRequest {
  const flags = parseFlags(argv, ['service', 'scope', 'ttl']);
  const service = flags.service ?? '';
  if (!SERVICE_NAME.test(service))
    throw new UsageError('--service must be a name of letters, digits, . _ - (at most 64)');
  const scopes = [...new Set((flags.scope ?? '').split(/\s+/).filter(Boolean))];
  if (scopes.length === 0)
    throw new UsageError(`--scope must list one or more of ${SERVICE_SCOPES.join(', ')}, space separated`);
  const unknown = scopes.find((scope) => !isServiceScope(scope));
  if (unknown !== undefined)
    throw new UsageError(
      `${SHOWN_SCOPE.test(unknown) ? `unknown scope "${unknown}"` : 'unknown scope'}: --scope takes ${SERVICE_SCOPES.join(', ')}`,
    );
  const ttl = TTL.exec(flags.ttl ?? '1h');
  const ttlSeconds = ttl ? Number(ttl[1]) * UNIT_SECONDS[ttl[2]] : NaN;
  if (!(ttlSeconds > 0 && ttlSeconds <= MAX_TTL_SECONDS))
    throw new UsageError('--ttl must be a duration such as 900, 15m, 1h or 30d (at most 366d)');
  return { service, scopes: scopes as ServiceScope[], ttlSeconds };
}

/** The argument of `token revoke JTI`. */
export function parseRevokeArguments(argv: string[]): string {
  if (argv.length !== 1) throw new UsageError('token revoke takes one argument: the jti of the token');
  if (!SERVICE_TOKEN_JTI.test(argv[0]))
    throw new UsageError("JTI must be a service token's jti claim: 32 hexadecimal digits");
  return argv[0];
}

function describe(token: ServiceToken): string {
  return `${token.jti} (${token.subject}, scope "${token.scope}", expires ${token.expiresAt.toISOString()})`;
}

/** `token …`: mints and revokes service tokens through the service the API uses. */
@Injectable()
export class ServiceTokenCommands {
  constructor(private readonly serviceTokens: ServiceTokensService) {}

  /** An access token for an internal service, recorded by its jti so that it can be revoked. */
  async mint({ service, scopes, ttlSeconds }: MintRequest): Promise<string> {
    return (await this.serviceTokens.mint(service, scopes, ttlSeconds)).token;
  }

  /** Every instance refuses the token from its next request on; revoking it again changes nothing. */
  async revoke(jti: string): Promise<string> {
    const revocation = await this.serviceTokens.revoke(jti);
    if (!revocation)
      throw new CommandError(
        `no service token has jti ${jti}: it was not minted for this database, or it has expired and been removed`,
      );
    const { token, alreadyRevoked } = revocation;
    return alreadyRevoked
      ? `service token ${describe(token)} was already revoked at ${token.revokedAt!.toISOString()}`
      : `revoked service token ${describe(token)}`;
  }
}
