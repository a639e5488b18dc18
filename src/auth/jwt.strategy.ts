import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Jwt } from 'jsonwebtoken';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { Clock } from '../common/clock';
import { Principal } from '../common/principal';
import { RevocationList } from '../store/revocation-list';
import { ServiceTokensService } from './service-tokens.service';
import { accessTokenOf, TokensService } from './tokens.service';
import { VerifiedToken, VerifiedTokens } from './verified-tokens';

export const JWT_STRATEGY = 'jwt';

export const bearerTokenOf = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * passport-jwt, accepting only ES256 access tokens signed by one of our keys (chosen by `kid`
 * alone), for our issuer and audience, of type at+jwt, whose session (or, for a service token,
 * whose `jti`) has not been revoked. A token it verifies is remembered until it expires.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(
    tokens: TokensService,
    private readonly revocations: RevocationList,
    private readonly serviceTokens: ServiceTokensService,
    private readonly verified: VerifiedTokens,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    super({
      jwtFromRequest: bearerTokenOf,
      ...tokens.verifyOptions,
      jsonWebTokenOptions: { complete: true },
      passReqToCallback: true,
      secretOrKeyProvider: (
        _request: unknown,
        rawToken: string,
        done: (error: Error | null, key?: string | Buffer) => void,
      ) => {
        const key = tokens.keyFor(rawToken);
        if (key) done(null, key.publicKey.export({ type: 'spki', format: 'pem' }));
        else done(new Error('unknown key id'));
      },
    });
  }

  async validate(request: unknown, decoded: Jwt): Promise<Principal | false> {
    const verified = accessTokenOf(decoded);
    if (!verified) return false;
    this.verified.remember(bearerTokenOf(request)!, verified, verified.expiresAt);
    return (await this.isRevoked(verified)) ? false : verified.principal;
  }

  async isRevoked({ principal, tokenId }: VerifiedToken): Promise<boolean> {
    if (principal.sessionId && (await this.revocations.isRevoked(principal.sessionId, this.clock.now()))) return true;
    // Service tokens are revoked in the database by the operator's command line: a rare caller, one lookup.
    return !principal.userId && (await this.serviceTokens.isRevoked(tokenId));
  }
}
