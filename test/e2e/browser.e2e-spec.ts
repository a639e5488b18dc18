/// <reference lib="dom" />
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { Clock } from '../../src/common/clock';
import { CHROMIUM_PATH, describeWith } from '../support/services';
import { uniqueEmail } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const ARTIFACTS = join(__dirname, '..', 'artifacts');
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
];

describeWith(['chromium'], 'browser sign-in in real Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let attacker: Server;
  let attackerUrl: string;

  const mailCount = () => app.sink.messages.length;

  async function askForCode(email: string): Promise<string> {
    const before = app.sink.messagesTo(email).length;
    await page.goto(`${app.url}/login`);
    await page.getByLabel('Email address').fill(email);
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await page.waitForURL(`${app.url}/login`);
    await page.getByLabel('Code').waitFor();
    return app.sink.codeFor(email, before + 1);
  }

  async function signIn(email = uniqueEmail('browser')): Promise<string> {
    const code = await askForCode(email);
    await page.getByLabel('Code').fill(`${code.slice(0, 3)} ${code.slice(3)}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${app.url}/dashboard`);
    return email;
  }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    app = await startTestApp({ backend: 'sqlite-memory', env: { OTP_RESEND_COOLDOWN_SECONDS: '0' } });
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // Another site, for the cross-site attempts.
    attacker = createServer((request, response) => {
      const target = app.url;
      const pages: Record<string, string> = {
        '/post-login': `<form id="f" method="post" action="${target}/login"><input name="email" value="victim@example.com"></form><script>document.getElementById('f').submit()</script>`,
        '/logout-link': `<a id="a" href="${target}/logout">win a prize</a>`,
      };
      response.writeHead(200, { 'content-type': 'text/html' }).end(pages[request.url ?? ''] ?? 'nothing');
    }).listen(0, '127.0.0.2');
    await new Promise((resolve) => attacker.once('listening', resolve));
    attackerUrl = `http://127.0.0.2:${(attacker.address() as { port: number }).port}`;
  });

  beforeEach(async () => {
    context = await browser.newContext();
    page = await context.newPage();
  });
  afterEach(() => context?.close());

  afterAll(async () => {
    await browser?.close();
    attacker?.close();
    await app?.close();
  });

  it('signs in through the pages with the code from the mail, with a safe session cookie', async () => {
    const email = await signIn();
    await expectText(page, email);
    const cookies = await context.cookies();
    const session = cookies.find((cookie) => cookie.name.endsWith('otp_session'));
    expect(session).toMatchObject({
      name: '__Host-otp_session',
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
      path: '/',
    });
    expect(session!.domain.startsWith('.')).toBe(false);
  });

  it('gives a new session cookie at every sign-in', async () => {
    const email = await signIn();
    const first = (await context.cookies()).find((cookie) => cookie.name === '__Host-otp_session')!.value;
    await signIn(email);
    const second = (await context.cookies()).find((cookie) => cookie.name === '__Host-otp_session')!.value;
    expect(second).not.toBe(first);
  });

  it('signs in through the mail link only after the click on its page', async () => {
    const email = uniqueEmail('link');
    await askForCode(email);
    const mail = app.sink.messagesTo(email).at(-1)!;
    const link = new URL(/https?:\/\/\S+\/login\/link\?\S+/.exec(mail.text)![0]);
    expect(link.origin).toBe('http://login.test'); // built from PUBLIC_URL, never from Host
    const local = `${app.url}${link.pathname}${link.search}`;
    // What a mail scanner does: fetch the link. Nothing may be consumed.
    expect((await fetch(local)).status).toBe(200);
    expect((await fetch(local)).status).toBe(200);
    await page.goto(local);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${app.url}/dashboard`);
    await expectText(page, email);
  });

  it('shows the attempts left after a wrong code', async () => {
    const code = await askForCode(uniqueEmail('wrong'));
    await page.getByLabel('Code').fill(code === '000000' ? '000001' : '000000');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(page.getByRole('alert')).toBeTruthy();
    expect(await page.getByRole('alert').textContent()).toContain('4 attempts left');
    expect(await page.getByLabel('Code').getAttribute('aria-invalid')).toBe('true');
  });

  it('signs out everywhere else from the dashboard', async () => {
    const email = await signIn();
    const elsewhere = await browser.newContext();
    const other = page;
    page = await elsewhere.newPage();
    await signIn(email);
    page = other;
    await page.reload();
    await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await page.waitForURL(`${app.url}/dashboard`);
    expect(await page.getByRole('button', { name: 'Sign out everywhere else' }).count()).toBe(0);
    const otherPage = elsewhere.pages()[0];
    await otherPage.goto(`${app.url}/dashboard`);
    expect(otherPage.url()).toBe(`${app.url}/login`);
    await elsewhere.close();
  });

  it('sends /dashboard without a session to /login', async () => {
    await page.goto(`${app.url}/dashboard`);
    expect(page.url()).toBe(`${app.url}/login`);
  });

  it('signs out, and the session is over', async () => {
    await signIn();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForURL(`${app.url}/login`);
    expect((await context.cookies()).some((cookie) => cookie.name === '__Host-otp_session')).toBe(false);
    await page.goto(`${app.url}/dashboard`);
    expect(page.url()).toBe(`${app.url}/login`);
  });

  it('signs out with GET /logout typed by the user', async () => {
    await signIn();
    await page.goto(`${app.url}/logout`);
    expect(page.url()).toBe(`${app.url}/login`);
    await page.goto(`${app.url}/dashboard`);
    expect(page.url()).toBe(`${app.url}/login`);
  });

  it('refuses a cross-site form post without the CSRF token, and sends no mail', async () => {
    const before = mailCount();
    const response = page.waitForResponse(
      (answer) => answer.url() === `${app.url}/login` && answer.request().method() === 'POST',
    );
    await page.goto(`${attackerUrl}/post-login`);
    expect((await response).status()).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(mailCount()).toBe(before);
  });

  it('does not sign out on a cross-site GET /logout', async () => {
    await signIn();
    await page.goto(`${attackerUrl}/logout-link`);
    await page.click('#a');
    await page.waitForURL(`${app.url}/logout`);
    await expectText(page, 'Sign out?');
    await page.goto(`${app.url}/dashboard`);
    expect(page.url()).toBe(`${app.url}/dashboard`);
  });

  /** Asks for a change to `newEmail` from the dashboard; answers the code mailed there. */
  async function askForAddressChange(newEmail: string): Promise<string> {
    const before = app.sink.messagesTo(newEmail).length;
    await page.getByLabel('New sign-in address').fill(newEmail);
    await page.getByRole('button', { name: 'Email a code to the new address' }).click();
    await page.getByRole('heading', { name: 'Confirm your new address' }).waitFor();
    return app.sink.codeFor(newEmail, before + 1);
  }

  /** Runs `action` with the service's clock past the recent-sign-in window. */
  async function afterReauthWindow(action: () => Promise<void>): Promise<void> {
    const clock = app.app.get(Clock);
    const moved = jest.spyOn(clock, 'now').mockReturnValue(Date.now() + (app.config.accountReauthSeconds + 1) * 1000);
    try {
      await action();
    } finally {
      moved.mockRestore();
    }
  }

  it('changes the address, downloads the data and deletes the account from the dashboard, after a confirmation', async () => {
    await signIn();
    const newEmail = uniqueEmail('moved');
    const code = await askForAddressChange(newEmail);
    await page.getByLabel('Code').fill(code);
    await page.getByRole('button', { name: 'Change my address' }).click();
    await page.waitForURL(`${app.url}/dashboard`);
    await expectText(page, newEmail);

    const downloading = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download my data' }).click();
    const exported = JSON.parse(readFileSync(await (await downloading).path(), 'utf8')) as {
      user: { email: string };
    };
    expect(exported.user.email).toBe(newEmail);

    await page.getByRole('link', { name: 'Delete my account…' }).click();
    await page.getByRole('heading', { name: 'Delete your account?' }).waitFor();
    await expectText(page, newEmail);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByRole('heading', { name: 'Your account is deleted' }).waitFor();
    await page.goto(`${app.url}/dashboard`);
    await page.waitForURL(`${app.url}/login`);
    expect(app.sink.messagesTo(newEmail).length).toBe(1);
  });

  it('asks for a fresh sign-in before deleting the account or changing the address, once the sign-in is old', async () => {
    await signIn();
    await afterReauthWindow(async () => {
      await page.getByRole('link', { name: 'Delete my account…' }).click();
      await expectText(page, 'this needs a recent sign-in');
      await page.goto(`${app.url}/dashboard`);
      await page.getByLabel('New sign-in address').fill(uniqueEmail('late'));
      await page.getByRole('button', { name: 'Email a code to the new address' }).click();
      await expectText(page, 'this needs a recent sign-in');
    });
    await page.goto(`${app.url}/dashboard`);
    await page.getByRole('heading', { name: /^Welcome/ }).waitFor();
  });

  it('fits phones and desktops without horizontal scrolling, and saves screenshots', async () => {
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      const pages: [string, () => Promise<unknown>][] = [
        ['login', () => page.goto(`${app.url}/login`)],
        ['code', () => askForCode(uniqueEmail(`shot-${viewport.name}`))],
        ['dashboard', () => signIn()],
      ];
      for (const [name, open] of pages) {
        await context.clearCookies();
        await open();
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
        await page.screenshot({ path: join(ARTIFACTS, `${name}-${viewport.name}.png`), fullPage: true });
      }
    }
  });

  it('has no serious or critical accessibility violations (axe-core)', async () => {
    const axeContext = await browser.newContext({ bypassCSP: true });
    const axePage = await axeContext.newPage();
    page = axePage;
    context = axeContext;
    const audit = async (name: string) => {
      await axePage.addScriptTag({ content: AXE_SOURCE });
      const violations: { id: string; impact: string }[] = await axePage.evaluate(async () => {
        const result = await (
          window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string }[] }> } }
        ).axe.run();
        return result.violations.map((violation) => ({ id: violation.id, impact: violation.impact }));
      });
      expect({
        page: name,
        violations: violations.filter((violation) => ['serious', 'critical'].includes(violation.impact)),
      }).toEqual({ page: name, violations: [] });
    };
    await axePage.goto(`${app.url}/login`);
    await audit('login');
    const code = await askForCode(uniqueEmail('axe'));
    await audit('code');
    await axePage.getByLabel('Code').fill('000000' === code ? '000001' : '000000');
    await axePage.getByRole('button', { name: 'Sign in' }).click();
    await audit('code with error');
    await signIn();
    await audit('dashboard');
    const changeCode = await askForAddressChange(uniqueEmail('axe-moved'));
    await audit('address change code');
    await axePage.getByLabel('Code').fill('000000' === changeCode ? '000001' : '000000');
    await axePage.getByRole('button', { name: 'Change my address' }).click();
    await audit('address change code with error');
    await axePage.goto(`${app.url}/account/delete`);
    await audit('delete confirmation');
    await afterReauthWindow(async () => {
      await axePage.goto(`${app.url}/account/delete`);
      await audit('reauthentication needed');
    });
    await axePage.getByRole('link', { name: 'Back to your account' }).click();
    await axePage.goto(`${app.url}/account/delete`);
    await axePage.getByRole('button', { name: 'Delete my account' }).click();
    await audit('account deleted');
    await signIn();
    await axePage.goto(`${app.url}/logout`, { referer: attackerUrl });
    await audit('logout');
  });
});

async function expectText(page: Page, text: string): Promise<void> {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 5000 });
}
