import { createServer, Server } from 'node:http';
import type { Page } from 'playwright-core';
import type { TestApp } from './test-app';

/**
 * The HTTP side of an app that signs its users in with this service: its callback and
 * post-logout pages, which only record that the browser arrived.
 */
export class RelyingPartyServer {
  readonly hits: string[] = [];
  private server?: Server;
  url = '';

  /** `localhost`: another site than the service's 127.0.0.1, and a loopback redirect URI that needs no TLS. */
  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      this.hits.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'text/plain' }).end('back at the app');
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://localhost:${(this.server.address() as { port: number }).port}`;
  }

  get callback(): string {
    return `${this.url}/callback`;
  }

  get loggedOut(): string {
    return `${this.url}/logged-out`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** Our sign-in pages, as a user sent there by an app goes through them: email, code from the mail, back to the app. */
export async function signInAtPages(page: Page, app: Pick<TestApp, 'sink'>, email: string, returnTo: string) {
  await page.waitForURL(/\/login$/);
  const before = app.sink.messagesTo(email).length;
  await page.getByLabel('Email address').fill(email);
  await page.getByRole('button', { name: 'Email me a code' }).click();
  await page.getByLabel('Code').waitFor();
  await page.getByLabel('Code').fill(await app.sink.codeFor(email, before + 1));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${returnTo}**`);
}
