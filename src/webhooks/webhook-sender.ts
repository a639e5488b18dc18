import { Agent as HttpAgent, AgentOptions, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { FORBIDDEN_ADDRESS, guardedLookup, hostAddress, isForbiddenAddress } from './webhook-address-policy';

export interface SendResult {
  /** The receiver's HTTP status, or null when it gave none. */
  status: number | null;
  /** Why the attempt failed, in a few words; undefined on a 2xx. */
  error?: string;
}

const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs one signed event. The connection goes to an address checked by `guardedLookup` (or to
 * the checked literal address): never to one resolved after the check. Redirects are not followed.
 */
export class WebhookSender {
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(
    private readonly allowPrivate: boolean,
    private readonly timeoutMs: number,
  ) {
    // The agents resolve through the guard; no keep-alive, so every attempt resolves and checks afresh.
    const lookup = guardedLookup(allowPrivate) as unknown as AgentOptions['lookup'];
    this.httpAgent = new HttpAgent({ keepAlive: false, lookup });
    this.httpsAgent = new HttpsAgent({ keepAlive: false, lookup });
  }

  send(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
    const target = new URL(url);
    const literal = hostAddress(target);
    if (literal && !this.allowPrivate && isForbiddenAddress(literal))
      return Promise.resolve({ status: null, error: 'address not allowed' });
    const secure = target.protocol === 'https:';
    const request = secure ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const outgoing = request(
        target,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'user-agent': 'otp-login-webhooks',
          },
        },
        (response) => {
          let received = 0;
          response.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > MAX_RESPONSE_BYTES) response.destroy();
          });
          const status = response.statusCode ?? null;
          const outcome = (): SendResult =>
            status !== null && status >= 200 && status < 300 ? { status } : { status, error: `HTTP ${status}` };
          response.on('end', () => finish(outcome()));
          response.on('close', () => finish(outcome()));
          response.on('error', () => finish(outcome()));
        },
      );
      const timer = setTimeout(() => {
        finish({ status: null, error: `no answer within ${this.timeoutMs} ms` });
        outgoing.destroy();
      }, this.timeoutMs);
      outgoing.on('error', (error: NodeJS.ErrnoException) =>
        finish({ status: null, error: error.code === FORBIDDEN_ADDRESS ? 'address not allowed' : describe(error) }),
      );
      outgoing.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** The error's code, not its message: messages can carry the URL. */
function describe(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ECONNRESET':
      return 'connection reset';
    default:
      return error.code ? `failed (${error.code})` : 'failed';
  }
}
