import { Inject, Injectable } from '@nestjs/common';
import { decode, Jwt, JwtPayload, sign, verify } from 'jsonwebtoken';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { Clock } from '../common/clock';
import { User } from '../users/user.entity';
import { userView } from '../users/users.service';
import { SignedInResponse } from './dto/auth.responses';
import { Session } from './session.entity';
import { principalOf } from './principal';
import { SigningKey, SIGNING_ALGORITHM, SigningKeys } from './signing-keys';
import { VerifiedToken, VerifiedTokens } from './verified-tokens';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface AccessTokenClaims {
  subject: string;
  sessionId?: string;
  email?: string;
  roles?: string[];
  scope?: string;
  /** The `jti`: service tokens carry one, so that they can be revoked one by one. */
  tokenId?: string;
}

/** Signs and checks access tokens with jsonwebtoken: ES256, our keys chosen by `kid`, our issuer and audience. */
@Injectable()
export class TokensService {
  /**
   * The options every verification uses, the passport strategy's included. The OpenID provider's
   * access tokens are ours too: same keys and audience, its issuer.
   */
  readonly verifyOptions: {
    algorithms: [typeof SIGNING_ALGORITHM];
    issuer: [string, ...string[]];
    audience: string;
  };

  constructor(
    private readonly keys: SigningKeys,
    private readonly verified: VerifiedTokens,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {
    const issuers = [...new Set([config.jwt.issuer, config.oidcIssuer])] as [string, ...string[]];
    this.verifyOptions = { algorithms: [SIGNING_ALGORITHM], issuer: issuers, audience: config.jwt.audience };
  }

  /** A signed token; this instance remembers it as verified, so its first use costs no ECDSA check. */
  signAccessToken(
    claims: AccessTokenClaims,
    ttlSeconds = this.config.jwt.accessTtlSeconds,
  ): { token: string; expiresIn: number; issuedAt: number; expiresAt: number } {
    const key = this.keys.current;
    const iat = Math.floor(this.clock.now() / 1000);
    const payload: JwtPayload = { sub: claims.subject, iat, exp: iat + ttlSeconds };
    if (claims.sessionId) payload.sid = claims.sessionId;
    if (claims.email) payload.email = claims.email;
    payload.roles = claims.roles ?? [];
    if (claims.scope) payload.scope = claims.scope;
    if (claims.tokenId) payload.jti = claims.tokenId;
    payload.iss = this.config.jwt.issuer;
    payload.aud = this.config.jwt.audience;
    const token = sign(payload, key.privateKey, {
      algorithm: SIGNING_ALGORITHM,
      keyid: key.kid,
      header: { alg: SIGNING_ALGORITHM, typ: ACCESS_TOKEN_TYPE },
    });
    const expiresAt = (iat + ttlSeconds) * 1000;
    this.verified.remember(token, { principal: principalOf(payload)!, tokenId: claims.tokenId ?? null }, expiresAt);
    return { token, expiresIn: ttlSeconds, issuedAt: iat * 1000, expiresAt };
  }

  /** Tokens for a user's session; the access token never outlives the session. */
  signedIn(user: User, session: Session, refreshToken: string): SignedInResponse {
    const secondsLeft = Math.floor((session.expiresAt.getTime() - this.clock.now()) / 1000);
    const access = this.signAccessToken(
      { subject: user.id, sessionId: session.id, email: user.email, roles: this.rolesFor(user.email) },
      Math.max(1, Math.min(this.config.jwt.accessTtlSeconds, secondsLeft)),
    );
    return {
      accessToken: access.token,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      refreshToken,
      user: userView(user),
    };
  }

  /** The verified payload of one of our access tokens, or null. */
  verifyAccessToken(token: string): JwtPayload | null {
    const key = this.keyFor(token);
    if (!key) return null;
    try {
      const decoded = verify(token, key.publicKey, {
        ...this.verifyOptions,
        complete: true,
        clockTimestamp: Math.floor(this.clock.now() / 1000),
      });
      const payload = decoded.payload as JwtPayload;
      return decoded.header.typ === ACCESS_TOKEN_TYPE && typeof payload.sub === 'string' ? payload : null;
    } catch {
      return null;
    }
  }

  /** The key named by the token's `kid`; no other header (jku, x5u, jwk) is ever looked at. */
  keyFor(token: string): SigningKey | undefined {
    try {
      const kid = decode(token, { complete: true })?.header.kid;
      return typeof kid === 'string' ? this.keys.find(kid) : undefined;
    } catch {
      return undefined;
    }
  }

  rolesFor(email: string): string[] {
    return this.config.adminEmails.includes(email) ? ['user', 'admin'] : ['user'];
  }
}

/**
 * What a token whose signature, issuer, audience and lifetime jsonwebtoken has checked gives, when
 * it is an access token (`typ` at+jwt, a `sub`, an `exp`); null otherwise.
 */
export function accessTokenOf(decoded: Jwt): (VerifiedToken & { expiresAt: number }) | null {
  const payload = typeof decoded.payload === 'string' ? null : decoded.payload;
  const principal = payload && principalOf(payload);
  if (decoded.header.typ !== ACCESS_TOKEN_TYPE || !principal || typeof payload.exp !== 'number') return null;
  return { principal, tokenId: typeof payload.jti === 'string' ? payload.jti : null, expiresAt: payload.exp * 1000 };
}
