import { Injectable } from '@nestjs/common';
import { CreateOidcClientDto } from '../oidc/clients/dto/create-oidc-client.dto';
import { InvalidClientRegistration, RegistrationProblem } from '../oidc/clients/invalid-client-registration';
import { ID_TOKEN_ALGORITHMS, IdTokenAlgorithm } from '../oidc/clients/oidc-client.entity';
import { OIDC_CLIENT_ID, OidcClientsService } from '../oidc/clients/oidc-clients.service';
import { CommandError, parseFlagLists, UsageError } from './command-line';

export type ClientCommand =
  { action: 'add'; registration: CreateOidcClientDto } | { action: 'list' } | { action: 'remove'; clientId: string };

/** The options of `client add`, by the field of the admin API each one sets. */
const OPTION_OF_FIELD: Record<string, string> = {
  name: '--name',
  redirect_uris: '--redirect-uri',
  post_logout_redirect_uris: '--post-logout-redirect-uri',
  id_token_signed_response_alg: '--id-token-alg',
};

/** The arguments of `client add …`, `client list` and `client remove CLIENT_ID`. */
export function parseClientArguments(argv: string[]): ClientCommand {
  const [action, ...rest] = argv;
  switch (action) {
    case 'add':
      return { action, registration: parseAddArguments(rest) };
    case 'list':
      if (rest.length > 0) throw new UsageError('client list takes no arguments');
      return { action };
    case 'remove':
      if (rest.length !== 1) throw new UsageError('client remove takes one argument: the client id');
      if (!OIDC_CLIENT_ID.test(rest[0]))
        throw new UsageError('CLIENT_ID must be a client id as `client add` printed it: 32 hexadecimal digits');
      return { action, clientId: rest[0] };
    default:
      throw new UsageError('client takes a subcommand: add, list or remove');
  }
}

function parseAddArguments(argv: string[]): CreateOidcClientDto {
  const flags = parseFlagLists(argv, ['name', 'redirect-uri', 'post-logout-redirect-uri', 'public', 'id-token-alg'], {
    repeatable: ['redirect-uri', 'post-logout-redirect-uri'],
    switches: ['public'],
  });
  if (!flags.name) throw new UsageError('--name is required');
  if (!flags['redirect-uri']) throw new UsageError('--redirect-uri is required (repeat it for more than one)');
  const algorithm = flags['id-token-alg']?.[0].toUpperCase();
  if (algorithm !== undefined && !(ID_TOKEN_ALGORITHMS as readonly string[]).includes(algorithm))
    throw new UsageError(`--id-token-alg must be ${ID_TOKEN_ALGORITHMS.join(' or ')}`);
  return {
    name: flags.name[0],
    redirect_uris: flags['redirect-uri'],
    post_logout_redirect_uris: flags['post-logout-redirect-uri'] ?? [],
    public: flags.public !== undefined,
    id_token_signed_response_alg: algorithm as IdTokenAlgorithm | undefined,
  };
}

/** `redirect_uris[1]` → `--redirect-uri #2`: the problem as the operator typed it. */
function asOption({ field, reason }: RegistrationProblem): string {
  const item = /^(\w+)\[(\d+)\]$/.exec(field);
  const option = OPTION_OF_FIELD[item?.[1] ?? field] ?? field;
  return `${item ? `${option} #${Number(item[2]) + 1}` : option} ${reason}`;
}

/** `client …`: registers, lists and removes OpenID Connect clients through the service the admin API uses. */
@Injectable()
export class ClientCommands {
  constructor(private readonly clients: OidcClientsService) {}

  async run(command: ClientCommand): Promise<string> {
    switch (command.action) {
      case 'add':
        return this.add(command.registration);
      case 'list':
        return JSON.stringify(await this.clients.list(), null, 2);
      case 'remove':
        return this.remove(command.clientId);
    }
  }

  /** `{"client_id", "client_secret"?}`: the secret of a confidential client, shown this once. */
  private async add(registration: CreateOidcClientDto): Promise<string> {
    try {
      const { client_id, client_secret } = await this.clients.register(registration, {});
      return JSON.stringify({ client_id, client_secret });
    } catch (error) {
      if (error instanceof InvalidClientRegistration)
        throw new CommandError(`cannot register the client: ${error.problems.map(asOption).join('; ')}`);
      throw error;
    }
  }

  /** Every instance refuses the client from its next request on. */
  private async remove(clientId: string): Promise<string> {
    const removed = await this.clients.remove(clientId, {});
    if (!removed) throw new CommandError(`no client has id ${clientId}`);
    return `removed client ${removed.client_id} (${JSON.stringify(removed.name)})`;
  }
}
