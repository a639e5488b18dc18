import { Inject, Injectable } from '@nestjs/common';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { Clock } from '../common/clock';
import { RevocationList } from '../store/revocation-list';
import { Principal } from '../common/principal';
import { principalOf } from './principal';
import { ServiceTokensService } from './service-tokens.service';
import { ACCESS_TOKEN_TYPE, TokensService } from './tokens.service';
import { VerifiedTokens } from './verified-tokens';

/** An access token whose signature and claims passed: whom it speaks for, and its `exp` in epoch ms. */
interface VerifiedToken {
  principal: Principal;
  expiresAt: number;
}

interface DecodedToken {
  header: { typ?: unknown };
  payload: Record<string, unknown>;
}

/**
 * passport-jwt, accepting only ES256 access tokens signed by one of our keys (chosen by `kid`
 * alone), for our issuer and audience, of type at+jwt, whose session (or, for a service token,
 * whose `jti`) has not been revoked. A token verified once, or signed here, is remembered until it
 * expires; revocation is checked every time.
 * It is driven by JwtAuthGuard directly rather than through passport's process-wide registry,
 * so several applications in one process never check tokens with each other's keys.
 */
@Injectable()
export class JwtStrategy extends Strategy {
  private readonly bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

  constructor(
    tokens: TokensService,
    private readonly revocations: RevocationList,
    private readonly serviceTokens: ServiceTokensService,
    private readonly verified: VerifiedTokens,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    // passport-jwt takes its verify callback before `this` exists; the callback reads it later.
    // eslint-disable-next-line prefer-const
    let strategy: JwtStrategy | undefined;
    super(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        ...tokens.verifyOptions,
        jsonWebTokenOptions: { complete: true },
        secretOrKeyProvider: (
          _request: unknown,
          rawToken: string,
          done: (error: Error | null, key?: string | Buffer) => void,
        ) => {
          const key = tokens.keyFor(rawToken);
          // jsonwebtoken accepts KeyObjects; passport-jwt's types predate them.
          if (key) done(null, key.publicKey as unknown as Buffer);
          else done(new Error('unknown key id'));
        },
      },
      (decoded: DecodedToken, done: (error: unknown, verified?: VerifiedToken | false) => void) =>
        done(null, strategy!.verifiedToken(decoded)),
    );
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    strategy = this;
  }

  /** Resolves the request's principal, or null when it has no acceptable token. */
  async authenticateRequest(request: unknown): Promise<Principal | null> {
    const token = this.bearerToken(request);
    if (!token) return null;
    let principal = this.verified.principalOf(token, this.clock.now());
    if (!principal) {
      const verified = await this.verifySignatureAndClaims(request);
      if (!verified) return null;
      principal = verified.principal;
      this.verified.remember(token, principal, verified.expiresAt);
    }
    if (principal.sessionId && (await this.revocations.isRevoked(principal.sessionId, this.clock.now()))) return null;
    // Service tokens are revoked in the database by the operator's command line: a rare caller, one lookup.
    if (!principal.userId && (await this.serviceTokens.isRevoked(tokenIdOf(token)))) return null;
    return principal;
  }

  private verifySignatureAndClaims(request: unknown): Promise<VerifiedToken | null> {
    return new Promise((resolve, reject) => {
      const attempt = Object.create(this) as Strategy & {
        success(verified: VerifiedToken): void;
        fail(): void;
        error(error: Error): void;
      };
      attempt.success = (verified: VerifiedToken) => resolve(verified);
      attempt.fail = () => resolve(null);
      attempt.error = (error) => reject(error);
      attempt.authenticate(request as never, {});
    });
  }

  private verifiedToken(decoded: DecodedToken): VerifiedToken | false {
    const { header, payload } = decoded;
    const principal = principalOf(payload);
    if (header.typ !== ACCESS_TOKEN_TYPE || !principal || typeof payload.exp !== 'number') return false;
    return { principal, expiresAt: payload.exp * 1000 };
  }
}

/** The `jti` of a token whose signature was checked, or already known to be ours. */
function tokenIdOf(token: string): unknown {
  try {
    return (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as { jti?: unknown }).jti;
  } catch {
    return undefined;
  }
}
