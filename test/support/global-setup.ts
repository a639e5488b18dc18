import { probeChromium, probePostgres, probeRedis } from './services';

/**
 * Finds out which real services this run can use. In CI (CI=true) a missing one fails the run;
 * elsewhere the suites that need it are reported as skipped, loudly.
 */
export default async function globalSetup(): Promise<void> {
  const problems = { postgres: await probePostgres(), redis: await probeRedis(), chromium: await probeChromium() };
  const missing = Object.entries(problems).filter(([, problem]) => problem !== null);
  for (const [service, problem] of Object.entries(problems)) process.env[`TEST_HAS_${service.toUpperCase()}`] = problem ? '0' : '1';
  if (missing.length === 0) return;
  const lines = missing.map(([, problem]) => problem).join('\n  ');
  if (process.env.CI === 'true') throw new Error(`CI needs every service the integration suites use:\n  ${lines}`);
  process.stderr.write(`\n*** Integration suites that need these services are SKIPPED:\n  ${lines}\n\n`);
}
