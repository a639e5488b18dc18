import 'reflect-metadata';
import { createApp } from './app.factory';
import { ConfigError } from './config/app-config';
import { readAppConfig } from './config/app-config.module';

const SHUTDOWN_GRACE_MS = 10_000;

async function bootstrap(): Promise<void> {
  const config = await readAppConfig();
  const app = await createApp(config);
  await app.listen(config.http.port, config.http.host);

  // Stop accepting, let requests in flight finish, close pools, exit 0; give up after 10 s.
  const shutdown = () => {
    setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS).unref();
    // Keep-alive connections that go idle once their request is done must not hold the exit.
    const server = app.getHttpServer();
    setInterval(() => server.closeIdleConnections(), 100).unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

bootstrap().catch((error: unknown) => {
  const message =
    error instanceof ConfigError
      ? `Invalid configuration: ${error.message}`
      : `Startup failed: ${(error as Error)?.message ?? error}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
