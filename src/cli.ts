import 'reflect-metadata';
import { SERVICE_SCOPES } from './common/service-scopes';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuditVerifyCommand } from './cli/audit-verify.command';
import { CliModule } from './cli/cli.module';
import { ClientCommands, parseClientArguments } from './cli/client.command';
import { CommandError, UsageError } from './cli/command-line';
import { parseMintArguments, parseRevokeArguments, ServiceTokenCommands } from './cli/service-token.command';
import { loadSigningKeys } from './auth/signing-keys';
import { ConfigError } from './config/app-config';
import { readAppConfig } from './config/app-config.module';
import { CoreModule } from './core.module';

const USAGE = `usage:
  npm run cli -- token --service NAME --scope "SCOPE [SCOPE…]" [--ttl 1h]
      mint a service token (printed alone on stdout); scopes: ${SERVICE_SCOPES.join(', ')};
      --ttl: seconds, or a number with s, m, h or d (at most 366d)
  npm run cli -- token revoke JTI
      every instance refuses the service token with this jti (its "jti" claim) from now on
  npm run cli -- client add --name NAME --redirect-uri URI [--redirect-uri URI …] [--public]
                            [--post-logout-redirect-uri URI …] [--id-token-alg ES256|RS256]
      register an OpenID Connect client; prints {"client_id", "client_secret"} as JSON, the
      secret (confidential clients only) this once; a --public client has none and uses PKCE
  npm run cli -- client list
      the registered clients as JSON, without secrets
  npm run cli -- client remove CLIENT_ID
      every instance refuses the client from now on
  npm run cli -- audit verify
      check the audit chain: exit 0 when intact, 1 when broken
  npm run cli -- help
      this text (also --help, -h)`;

/** What the command line asks for: checked whole before any configuration is read. */
type Command = (app: INestApplicationContext) => Promise<number>;

function parseCommand(argv: string[]): Command | 'help' {
  if (argv[0] === 'help' || argv.includes('--help') || argv.includes('-h')) return 'help';
  const [command, ...rest] = argv;
  switch (command) {
    case 'token': {
      if (rest[0] === 'revoke') {
        const jti = parseRevokeArguments(rest.slice(1));
        return async (app) => print(await app.get(ServiceTokenCommands).revoke(jti));
      }
      const request = parseMintArguments(rest);
      return async (app) => print(await app.get(ServiceTokenCommands).mint(request));
    }
    case 'client': {
      const request = parseClientArguments(rest);
      return async (app) => print(await app.get(ClientCommands).run(request));
    }
    case 'audit': {
      if (rest[0] !== 'verify' || rest.length > 1) throw new UsageError('audit takes one subcommand: verify');
      return async (app) => {
        const result = await app.get(AuditVerifyCommand).run((line) => process.stderr.write(`${line}\n`));
        print(result.message);
        return result.ok ? 0 : 1;
      };
    }
    case undefined:
      throw new UsageError('a command is required');
    default:
      throw new UsageError(/^[a-z][\w-]{0,39}$/i.test(command) ? `unknown command "${command}"` : 'unknown command');
  }
}

function print(line: string): number {
  process.stdout.write(`${line}\n`);
  return 0;
}

/** Operator commands. Reads the same environment (and .env) as the server. */
async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv);
  if (command === 'help') return print(USAGE);
  const config = await readAppConfig();
  const app = await NestFactory.createApplicationContext(
    { module: CliModule, imports: [CoreModule.forRoot(config, loadSigningKeys(config.jwt))] },
    { logger: false, abortOnError: false },
  );
  try {
    return await command(app);
  } finally {
    await app.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`${error.message}\n${USAGE}\n`);
    else if (error instanceof CommandError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof ConfigError) process.stderr.write(`Invalid configuration: ${error.message}\n`);
    else process.stderr.write(`${(error as Error)?.message ?? error}\n`);
    process.exit(2);
  },
);
