import { Inject, Injectable } from '@nestjs/common';
import { sign } from 'jsonwebtoken';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { Clock } from '../common/clock';
import { SIGNING_ALGORITHM, SigningKeys } from './signing-keys';

export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface AccessTokenClaims {
  subject: string;
  sessionId?: string;
  email?: string;
  roles?: string[];
  scope?: string;
}

/** Signs access tokens with the current key; verification lives in the passport strategy. */
@Injectable()
export class TokensService {
  constructor(
    private readonly keys: SigningKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  signAccessToken(claims: AccessTokenClaims, ttlSeconds = this.config.jwt.accessTtlSeconds): { token: string; expiresIn: number } {
    const key = this.keys.current;
    const iat = Math.floor(this.clock.now() / 1000);
    const payload: Record<string, unknown> = { sub: claims.subject, iat, exp: iat + ttlSeconds };
    if (claims.sessionId) payload.sid = claims.sessionId;
    if (claims.email) payload.email = claims.email;
    payload.roles = claims.roles ?? [];
    if (claims.scope) payload.scope = claims.scope;
    const token = sign(payload, key.privateKey, {
      algorithm: SIGNING_ALGORITHM,
      keyid: key.kid,
      header: { alg: SIGNING_ALGORITHM, typ: ACCESS_TOKEN_TYPE },
      issuer: this.config.jwt.issuer,
      audience: this.config.jwt.audience,
    });
    return { token, expiresIn: ttlSeconds };
  }

  rolesFor(email: string): string[] {
    return this.config.adminEmails.includes(email) ? ['user', 'admin'] : ['user'];
  }
}
