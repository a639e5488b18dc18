import { Inject, Injectable } from '@nestjs/common';
import { AuditRecord } from '../../audit/audit.service';
import { SigningKeys } from '../../auth/signing-keys';
import { ClientContext } from '../../common/client-context';
import { Clock } from '../../common/clock';
import { Principal } from '../../common/principal';
import { secureRandomBytes } from '../../common/random';
import { Secrets } from '../../common/secrets';
import { hasControlCharacters } from '../../common/text';
import { AppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/app-config.token';
import { CreateOidcClientDto } from './dto/create-oidc-client.dto';
import { OidcClientResponse, RegisteredOidcClientResponse } from './dto/oidc-client.response';
import { InvalidClientRegistration, RegistrationProblem } from './invalid-client-registration';
import { OidcClient } from './oidc-client.entity';
import { OidcClientsRepository } from './oidc-clients.repository';
import { isPrivateUseScheme, redirectUriProblem, RedirectUriPolicy } from './redirect-uri';

/** A client id as minted here: 128 random bits in hex, which no shell, option parser or URL misreads. */
export const OIDC_CLIENT_ID = /^[0-9a-f]{32}$/;

const MAX_NAME_LENGTH = 100;
const MAX_REDIRECT_URIS = 10;
const SECRET_BYTES = 32;

/** Who registers or removes a client: an admin (or service) through the API, else the operator's command line. */
export interface ClientsActor {
  principal?: Principal;
  client?: ClientContext;
}

/**
 * The apps that sign their users in with this service, registered by the operator. Nothing is
 * cached: every instance sees a registration or a removal at the next request.
 */
@Injectable()
export class OidcClientsService {
  constructor(
    private readonly repository: OidcClientsRepository,
    private readonly secrets: Secrets,
    private readonly signingKeys: SigningKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(Clock) private readonly clock: Clock,
  ) {}

  /** The client and, for a confidential one, its secret: shown here once, stored only sealed. */
  async register(request: CreateOidcClientDto, actor: ClientsActor): Promise<RegisteredOidcClientResponse> {
    const isPublic = request.public ?? false;
    const secret = isPublic ? undefined : secureRandomBytes(SECRET_BYTES).toString('base64url');
    const client: OidcClient = {
      clientId: secureRandomBytes(16).toString('hex'),
      ...this.checked(request),
      isPublic,
      secretSealed: secret === undefined ? null : this.secrets.seal('oidc-client-secret', secret),
      createdAt: new Date(this.clock.now()),
    };
    await this.repository.insert(client, clientEvent('client.created', client, actor));
    return secret === undefined ? clientView(client) : { ...clientView(client), client_secret: secret };
  }

  async list(): Promise<OidcClientResponse[]> {
    return (await this.repository.list()).map(clientView);
  }

  /** The removed client, or null when there is no such client. */
  async remove(clientId: string, actor: ClientsActor): Promise<OidcClientResponse | null> {
    if (!OIDC_CLIENT_ID.test(clientId)) return null;
    const removed = await this.repository.delete(clientId, (client) => clientEvent('client.removed', client, actor));
    return removed && clientView(removed);
  }

  /** Whether a client is registered for RS256 ID tokens: then production needs JWT_RSA_PRIVATE_KEY. */
  async usesRs256(): Promise<boolean> {
    return (await this.repository.list()).some((client) => client.idTokenSignedResponseAlg === 'RS256');
  }

  /** The client as oidc-provider's metadata, with its secret opened; undefined for an unknown client. */
  async providerMetadata(clientId: string): Promise<Record<string, unknown> | undefined> {
    if (!OIDC_CLIENT_ID.test(clientId)) return undefined;
    const client = await this.repository.findById(clientId);
    if (!client) return undefined;
    return {
      client_id: client.clientId,
      client_name: client.name,
      // The library takes a private-use scheme only from a client it knows to be a native app.
      application_type: client.redirectUris.some(isPrivateUseScheme) ? 'native' : 'web',
      ...(client.secretSealed ? { client_secret: this.secrets.open('oidc-client-secret', client.secretSealed) } : {}),
      redirect_uris: client.redirectUris,
      post_logout_redirect_uris: client.postLogoutRedirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // The provider accepts a confidential client's secret either way; it picks per request.
      token_endpoint_auth_method: client.isPublic ? 'none' : 'client_secret_basic',
      id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    };
  }

  /** The registration as stored, or InvalidClientRegistration naming everything wrong with it. */
  private checked(
    request: CreateOidcClientDto,
  ): Pick<OidcClient, 'name' | 'redirectUris' | 'postLogoutRedirectUris' | 'idTokenSignedResponseAlg'> {
    const problems: RegistrationProblem[] = [];
    const name = request.name.trim();
    if (name.length === 0 || name.length > MAX_NAME_LENGTH)
      problems.push({ field: 'name', reason: `must be 1 to ${MAX_NAME_LENGTH} characters` });
    else if (hasControlCharacters(name))
      problems.push({ field: 'name', reason: 'must not contain control characters' });

    const policy: RedirectUriPolicy = { allowHttpOnAnyHost: this.config.env === 'development' };
    const redirectUris = uniqueUris(request.redirect_uris, 'redirect_uris', 1, policy, problems);
    const postLogoutRedirectUris = uniqueUris(
      request.post_logout_redirect_uris ?? [],
      'post_logout_redirect_uris',
      0,
      policy,
      problems,
    );

    const algorithm = request.id_token_signed_response_alg ?? 'ES256';
    if (algorithm === 'RS256' && !this.signingKeys.rsa && this.config.env === 'production')
      problems.push({
        field: 'id_token_signed_response_alg',
        reason: 'RS256 needs an RSA signing key and none is configured: set JWT_RSA_PRIVATE_KEY',
      });

    if (problems.length > 0) throw new InvalidClientRegistration(problems);
    return {
      name,
      redirectUris,
      postLogoutRedirectUris,
      idTokenSignedResponseAlg: algorithm,
    };
  }
}

/** The URIs without repeats, in their order; a problem for each refused one and for a count out of range. */
function uniqueUris(
  uris: string[],
  field: string,
  min: number,
  policy: RedirectUriPolicy,
  problems: RegistrationProblem[],
): string[] {
  const unique = [...new Set(uris)];
  if (unique.length < min || unique.length > MAX_REDIRECT_URIS)
    problems.push({
      field,
      reason: `must list ${min === 0 ? 'at most' : `${min} to`} ${MAX_REDIRECT_URIS} URIs`,
    });
  for (const uri of unique) {
    const reason = redirectUriProblem(uri, policy);
    if (reason) problems.push({ field: `${field}[${uris.indexOf(uri)}]`, reason });
  }
  return unique;
}

function clientView(client: OidcClient): OidcClientResponse {
  return {
    client_id: client.clientId,
    name: client.name,
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris,
    public: client.isPublic,
    id_token_signed_response_alg: client.idTokenSignedResponseAlg,
    created_at: new Date(client.createdAt).toISOString(),
  };
}

/** Never the secret: who acted, and on which client. */
function clientEvent(
  type: 'client.created' | 'client.removed',
  client: OidcClient,
  { principal, client: context }: ClientsActor,
): AuditRecord {
  return {
    type,
    userId: principal?.userId ?? null,
    email: principal?.email ?? null,
    sessionId: principal?.sessionId ?? null,
    client: context,
    details: { clientId: client.clientId, name: client.name, actor: principal?.subject ?? 'cli' },
  };
}
