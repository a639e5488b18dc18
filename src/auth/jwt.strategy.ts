import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.token';
import { Principal } from './principal';
import { SIGNING_ALGORITHM, SigningKeys } from './signing-keys';
import { ACCESS_TOKEN_TYPE } from './tokens.service';

interface DecodedToken {
  header: { typ?: unknown; kid?: unknown };
  payload: Record<string, unknown>;
}

/**
 * Accepts only ES256 access tokens signed by one of our keys, chosen by `kid` alone: `jku`,
 * `x5u` and embedded `jwk` headers are never looked at.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(keys: SigningKeys, @Inject(APP_CONFIG) config: AppConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      algorithms: [SIGNING_ALGORITHM],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      jsonWebTokenOptions: { complete: true },
      secretOrKeyProvider: (_request: unknown, rawToken: string, done: (error: Error | null, key?: string | Buffer) => void) => {
        const key = keys.find(String(headerOf(rawToken)?.kid));
        // jsonwebtoken accepts KeyObjects; passport-jwt's types predate them.
        if (key) done(null, key.publicKey as unknown as Buffer);
        else done(new Error('unknown key id'));
      },
    });
  }

  validate(decoded: DecodedToken): Principal | false {
    const { header, payload } = decoded;
    if (header.typ !== ACCESS_TOKEN_TYPE || typeof payload.sub !== 'string') return false;
    const isService = payload.sub.startsWith('service:');
    return {
      subject: payload.sub,
      userId: isService ? null : payload.sub,
      sessionId: typeof payload.sid === 'string' ? payload.sid : null,
      email: typeof payload.email === 'string' ? payload.email : null,
      roles: Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [],
      scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
    };
  }
}

function headerOf(rawToken: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(rawToken.split('.')[0], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
