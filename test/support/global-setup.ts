import {
  availabilityVariable,
  probeChromium,
  probePostgres,
  probeRedis,
  probeRedisBinaries,
  Service,
} from './services';

/**
 * Finds out which real services this run can use. In CI (CI=true) a missing one fails the run;
 * elsewhere the suites that need it are reported as skipped, loudly.
 */
export default async function globalSetup(): Promise<void> {
  const problems: Record<Service, string | null> = {
    postgres: await probePostgres(),
    redis: await probeRedis(),
    chromium: await probeChromium(),
    'redis-server': await probeRedisBinaries(),
  };
  const missing = Object.entries(problems).filter(([, problem]) => problem !== null);
  for (const [service, problem] of Object.entries(problems))
    process.env[availabilityVariable(service as Service)] = problem ? '0' : '1';
  if (missing.length === 0) return;
  const lines = missing.map(([, problem]) => problem).join('\n  ');
  if (process.env.CI === 'true') throw new Error(`CI needs every service the integration suites use:\n  ${lines}`);
  process.stderr.write(`\n*** Integration suites that need these services are SKIPPED:\n  ${lines}\n\n`);
}
