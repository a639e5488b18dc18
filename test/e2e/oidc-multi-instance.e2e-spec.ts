import type { Configuration } from 'openid-client';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { AppProcess, Deployment, freePorts, startDeployment } from '../support/app-process';
import { mintServiceToken, runCli } from '../support/cli';
import { uniqueEmail } from '../support/factories';
import { RelyingPartyServer, signInAtPages } from '../support/relying-party';
import { CHROMIUM_PATH, describeWith } from '../support/services';

type OpenIdClient = typeof import('openid-client');

interface RegisteredClient {
  client_id: string;
  client_secret: string;
}

interface Authorization {
  callback: URL;
  verifier: string;
  state: string;
  nonce: string;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** prompt=consent's own interaction, which the registration answers without a page. */
const consentStepAt = (instance: AppProcess) =>
  ['interaction', 'auth'].map((step) =>
    expect.stringMatching(new RegExp(`^GET ${escaped(instance.url)}/oidc/${step}/[\\w-]+$`)),
  );

/**
 * Two compiled instances of one deployment behind one issuer (A's URL). The browser and the
 * relying party talk to whichever instance the test picks, as a load balancer would send them;
 * every step that does not run where the authorization started can only work from the shared
 * database and Redis.
 */
describeWith(['postgres', 'redis', 'chromium'], 'OpenID provider on two compiled instances', () => {
  let oc: OpenIdClient;
  let deployment: Deployment;
  let a: AppProcess;
  let b: AppProcess;
  let rp: RelyingPartyServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let client: RegisteredClient;
  let serviceToken: string;
  /** What the relying party discovered at the issuer: A's endpoints. */
  let discovered: Configuration;
  /** The main frame's navigations, as `METHOD origin+path`, redirects included. */
  let hops: string[];
  const test = (name: string, body: () => Promise<void>) => it(name, () => deployment.explained(body)());

  /** The relying party's configuration with its requests going to `instance` instead of the issuer's host. */
  function at(instance: AppProcess): Configuration {
    const metadata = Object.fromEntries(
      Object.entries(discovered.serverMetadata()).map(([name, value]) => [
        name,
        name !== 'issuer' && typeof value === 'string' && value.startsWith(`${a.url}/`)
          ? instance.url + value.slice(a.url.length)
          : value,
      ]),
    );
    const config = new oc.Configuration(
      metadata as ReturnType<Configuration['serverMetadata']>,
      client.client_id,
      undefined,
      oc.ClientSecretPost(client.client_secret),
    );
    oc.allowInsecureRequests(config);
    return config;
  }

  /** An authorization request for the relying party's callback, with PKCE, state and nonce. */
  async function authorizationRequest(config: Configuration, parameters: Record<string, string>) {
    const verifier = oc.randomPKCECodeVerifier();
    const state = oc.randomState();
    const nonce = oc.randomNonce();
    const url = oc.buildAuthorizationUrl(config, {
      redirect_uri: rp.callback,
      code_challenge: await oc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...parameters,
    });
    return { url, verifier, state, nonce };
  }

  /** Sends the browser to the discovered authorization endpoint (A's); resolves at A's sign-in page with the interaction's uid. */
  async function startAuthorization(): Promise<Omit<Authorization, 'callback'> & { uid: string }> {
    const { url, ...request } = await authorizationRequest(discovered, {
      scope: 'openid email profile offline_access',
      // The library issues a refresh token for offline_access only with the consent prompt.
      prompt: 'consent',
    });
    expect(url.origin).toBe(a.url);
    await page.goto(url.href);
    await page.waitForURL(`${a.url}/login`);
    const interaction = hops.find((hop) => hop.startsWith(`GET ${a.url}/oidc/interaction/`));
    expect(interaction).toBeDefined();
    return { ...request, uid: interaction!.split('/').pop()! };
  }

  /** Signs in at B's pages, leaving A's where the authorization sent the browser; resolves at the callback. */
  async function signInAtB(email: string, state: string): Promise<URL> {
    await page.goto(`${b.url}/login`);
    await signInAtPages(page, deployment, email, rp.callback);
    const callback = new URL(page.url());
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('code')).toBeTruthy();
    return callback;
  }

  /** The navigations from the sign-in form's post on. */
  function hopsFromSignIn(): string[] {
    return hops.slice(hops.lastIndexOf(`POST ${b.url}/verify-otp`));
  }

  function exchange(config: Configuration, { callback, verifier, state, nonce }: Authorization) {
    return oc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
  }

  async function introspect(instance: AppProcess, token: string) {
    const response = await instance.request('POST', '/api/v1/auth/introspect', {
      json: { token },
      headers: bearer(serviceToken),
    });
    expect(response.status).toBe(200);
    return response.body;
  }

  beforeAll(async () => {
    oc = await import('openid-client');
    rp = new RelyingPartyServer();
    await rp.start();
    const ports = await freePorts(2);
    const issuer = `http://127.0.0.1:${ports[0]}`;
    deployment = await startDeployment(
      2,
      { PUBLIC_URL: issuer, OIDC_ISSUER: issuer, OTP_RESEND_COOLDOWN_SECONDS: '0' },
      ports,
    );
    [a, b] = deployment.instances;
    expect(a.url).toBe(issuer);
    const added = await runCli(
      deployment,
      'client',
      'add',
      '--name',
      'Notes',
      '--redirect-uri',
      rp.callback,
      '--post-logout-redirect-uri',
      rp.loggedOut,
    );
    expect(added).toMatchObject({ status: 0, stderr: '' });
    client = JSON.parse(added.stdout) as RegisteredClient;
    serviceToken = await mintServiceToken(deployment, 'tokens:introspect', '1h', 'apps');
    discovered = await oc.discovery(
      new URL(a.url),
      client.client_id,
      undefined,
      oc.ClientSecretPost(client.client_secret),
      {
        execute: [oc.allowInsecureRequests],
      },
    );
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--no-sandbox', '--disable-gpu'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await deployment?.stop();
    await rp?.stop();
  }, 30_000);

  beforeEach(async () => {
    context = await browser.newContext();
    // Far below the test's timeout, so that a step that never arrives says which.
    context.setDefaultTimeout(8000);
    page = await context.newPage();
    hops = [];
    page.on('request', (request) => {
      if (request.isNavigationRequest() && request.frame() === page.mainFrame()) {
        const url = new URL(request.url());
        hops.push(`${request.method()} ${url.origin}${url.pathname}`);
      }
    });
  });
  afterEach(() => context?.close());

  test('signs in at B for an authorization started at A; B’s token endpoint takes the code, A refreshes, a replay at A is refused', async () => {
    const email = uniqueEmail('oidc-multi');
    const { uid, ...started } = await startAuthorization();
    const callback = await signInAtB(email, started.state);
    // B finds the interaction A created and records the sign-in; the library sends the browser
    // back to where the authorization started (the issuer's host), and A finds B's result.
    expect(hopsFromSignIn()).toEqual([
      `POST ${b.url}/verify-otp`,
      `GET ${b.url}/oidc/interaction/${uid}`,
      `GET ${a.url}/oidc/auth/${uid}`,
      ...consentStepAt(a),
      `GET ${rp.callback}`,
    ]);

    const authorization = { callback, ...started };
    const tokens = await exchange(at(b), authorization);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: a.url, aud: client.client_id, email, email_verified: true });
    expect(typeof claims.sid).toBe('string');
    const me = await a.request('GET', '/api/v1/users/me', { headers: bearer(tokens.access_token) });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: claims.sub, email });
    expect(await introspect(a, tokens.access_token)).toMatchObject({ active: true, sub: claims.sub, sid: claims.sid });

    // The refresh token B issued, refreshed at A.
    const refreshed = await oc.refreshTokenGrant(at(a), tokens.refresh_token!);
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(refreshed.claims()).toMatchObject({ sub: claims.sub, sid: claims.sid });
    expect(await introspect(b, refreshed.access_token)).toMatchObject({ active: true, sid: claims.sid });

    // The browser is signed in for every instance: an authorization at B goes straight back to the
    // app, without a sign-in or an interaction, in the same session.
    const mails = deployment.sink.messagesTo(email).length;
    const { url, ...again } = await authorizationRequest(at(b), { scope: 'openid email' });
    hops = [];
    await page.goto(url.href);
    await page.waitForURL(`${rp.callback}**`);
    expect(hops).toEqual([`GET ${b.url}/oidc/auth`, `GET ${rp.callback}`]);
    const silent = await exchange(at(a), { callback: new URL(page.url()), ...again });
    expect(silent.claims()).toMatchObject({ sub: claims.sub, sid: claims.sid, auth_time: claims.auth_time, email });
    expect(deployment.sink.messagesTo(email)).toHaveLength(mails);

    // The code B took is refused at A, and its replay revokes the grant: the refresh token A
    // issued is refused at B.
    await expect(exchange(at(a), authorization)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(oc.refreshTokenGrant(at(b), refreshed.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    for (const instance of [a, b]) expect(instance.errorLines).toEqual([]);
  });

  test('completes at B an authorization started at A; A’s token endpoint takes the code, B refreshes; a logout at B ends it at A at once', async () => {
    const email = uniqueEmail('oidc-multi-out');
    const { uid, ...started } = await startAuthorization();
    // The library sends the browser back to where the authorization started (the issuer's host);
    // here that request goes to B, as a load balancer may send it. (Playwright routes only the
    // first request of a redirect chain, so the redirect is caught at B's response.)
    let resumeAt: string | undefined;
    await page.route(`${b.url}/oidc/interaction/${uid}`, async (route) => {
      const response = await route.fetch({ maxRedirects: 0 });
      resumeAt = response.headers().location;
      await route.fulfill({ response, headers: { ...response.headers(), location: `${b.url}/oidc/auth/${uid}` } });
    });
    const callback = await signInAtB(email, started.state);
    expect(hopsFromSignIn()).toEqual([
      `POST ${b.url}/verify-otp`,
      `GET ${b.url}/oidc/interaction/${uid}`,
      `GET ${b.url}/oidc/auth/${uid}`,
      ...consentStepAt(b),
      `GET ${rp.callback}`,
    ]);
    expect(resumeAt).toBe(`${a.url}/oidc/auth/${uid}`);

    const authorization = { callback, ...started };
    const tokens = await exchange(at(a), authorization);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: a.url, aud: client.client_id, email, email_verified: true });
    expect(typeof claims.sid).toBe('string');
    const refreshed = await oc.refreshTokenGrant(at(b), tokens.refresh_token!);
    expect(refreshed.claims()).toMatchObject({ sub: claims.sub, sid: claims.sid });

    const accessTokens = [tokens.access_token, refreshed.access_token];
    for (const token of accessTokens) {
      expect(await introspect(a, token)).toMatchObject({ active: true, sub: claims.sub, sid: claims.sid });
      expect((await a.request('GET', '/api/v1/users/me', { headers: bearer(token) })).status).toBe(200);
    }

    const logout = oc.buildEndSessionUrl(at(b), {
      id_token_hint: refreshed.id_token ?? tokens.id_token!,
      post_logout_redirect_uri: rp.loggedOut,
      state: 'bye',
    });
    expect(logout.origin).toBe(b.url);
    await page.goto(logout.href);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${rp.loggedOut}**`);
    expect(new URL(page.url()).searchParams.get('state')).toBe('bye');
    expect(hops.filter((hop) => hop.includes('/oidc/session/end'))).toEqual([
      `GET ${b.url}/oidc/session/end`,
      `POST ${b.url}/oidc/session/end/confirm`,
    ]);

    for (const token of accessTokens) {
      expect(await introspect(a, token)).toEqual({ active: false });
      const me = await a.request('GET', '/api/v1/users/me', { headers: bearer(token) });
      expect(me.status).toBe(401);
      expect(me.body.code).toBe('unauthorized');
    }
    await expect(oc.refreshTokenGrant(at(a), refreshed.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    for (const instance of [a, b]) expect(instance.errorLines).toEqual([]);
  });
});
