import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { OidcModule } from '../oidc/oidc.module';
import { StoreModule } from '../store/store.module';
import { UsersModule } from '../users/users.module';
import { WebModule } from '../web/web.module';
import { OidcInteractionController } from './oidc-interaction.controller';
import { OidcProvider } from './oidc-provider.service';
import { OidcUserinfoController } from './oidc-userinfo.controller';

/** "Sign in with" this service: the OpenID Provider, mounted by app.factory.ts (registerOidcRoutes). */
@Module({
  imports: [OidcModule, AuthModule, UsersModule, AuditModule, WebModule, StoreModule],
  controllers: [OidcInteractionController, OidcUserinfoController],
  providers: [OidcProvider],
  exports: [OidcProvider],
})
export class OidcProviderModule {}
