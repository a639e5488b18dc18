import { Controller, Get, Header } from '@nestjs/common';
import { Public } from './principal';
import { SigningKeys } from './signing-keys';

@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: SigningKeys) {}

  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  @Header('Cross-Origin-Resource-Policy', 'cross-origin')
  jwks() {
    return this.keys.jwks();
  }
}
