import { Module } from '@nestjs/common';

/** "Sign in with" this service: the OpenID Provider, its registered clients and its shared state. */
@Module({})
export class OidcModule {}
