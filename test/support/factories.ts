import { randomBytes } from 'node:crypto';
import type { TestApp } from './test-app';

/** Anything that serves the API and whose mail lands in a sink: an in-process app or a child process. */
export type ApiClient = Pick<TestApp, 'request' | 'sink'>;

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(5).toString('hex')}@example.com`;
}

/** Asks for a code and reads it from the mail the SMTP sink received. */
export async function requestCode(app: ApiClient, email: string, headers: Record<string, string> = {}) {
  const before = app.sink.messagesTo(email).length;
  const response = await app.request('POST', '/api/v1/auth/otp', { json: { email }, headers });
  if (response.status !== 202) throw new Error(`code request failed: ${response.status} ${response.text}`);
  const code = await app.sink.codeFor(email, before + 1);
  return { sessionId: response.body.sessionId as string, code, response };
}

/** A complete sign-in: code requested, read from the mail, verified. */
export async function signIn(app: ApiClient, email = uniqueEmail(), headers: Record<string, string> = {}) {
  const { sessionId, code } = await requestCode(app, email, headers);
  const response = await app.request('POST', '/api/v1/auth/otp/verify', { json: { sessionId, code }, headers });
  if (response.status !== 200) throw new Error(`verify failed: ${response.status} ${response.text}`);
  return { email, sessionId, ...response.body } as {
    email: string;
    sessionId: string;
    accessToken: string;
    refreshToken: string;
    user: { id: string; lastLoginAt: string };
  };
}
