import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { loadSigningKeys } from './auth/signing-keys';
import { verifyAuditChain } from './cli/audit-verify.command';
import { mintServiceToken, UsageError } from './cli/service-token.command';
import { ConfigError, loadConfig } from './config/app-config';

const USAGE = `usage:
  npm run cli -- token --service NAME --scope "SCOPE [SCOPE…]" [--ttl 1h]
  npm run cli -- audit verify`;

/** Operator commands. Reads the same environment (and .env) as the server. */
async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const subcommand = command === 'audit' ? rest.shift() : undefined;
  const args = parseFlags(rest);
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig(process.env);
  switch (command) {
    case 'token':
      process.stdout.write(`${mintServiceToken(args, config, loadSigningKeys(config.jwt))}\n`);
      return;
    case 'audit': {
      if (subcommand !== 'verify') throw new UsageError('audit takes one subcommand: verify');
      const result = await verifyAuditChain(config);
      process.stdout.write(`${result.message}\n`);
      process.exitCode = result.ok ? 0 : 1;
      return;
    }
    default:
      throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
  }
}

function parseFlags(argv: string[]): Record<string, string | undefined> {
  const flags: Record<string, string | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!match) throw new UsageError(`unexpected argument "${argv[i]}"`);
    flags[match[1]] = match[2] ?? argv[++i];
  }
  return flags;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) process.stderr.write(`${error.message}\n${USAGE}\n`);
  else if (error instanceof ConfigError) process.stderr.write(`Invalid configuration: ${error.message}\n`);
  else process.stderr.write(`${(error as Error)?.message ?? error}\n`);
  process.exit(2);
});
