import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number | 'hung';
}

/** What the receiver does with the next request: answer with a status, or hold it without answering. */
export type ReceiverBehaviour = number | 'hang';

/**
 * A real HTTP server on the loopback that records every webhook it gets. It answers 204 unless
 * told otherwise: `answerNext` queues behaviours for the next requests, in order.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly queue: ReceiverBehaviour[] = [];
  private readonly hung: ServerResponse[] = [];
  private server?: Server;
  url = '';

  /** `port`: listen where an earlier receiver did, e.g. to come back after an outage. */
  async start(port = 0): Promise<this> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const behaviour = this.queue.shift() ?? 204;
        this.received.push({
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          status: behaviour === 'hang' ? 'hung' : behaviour,
        });
        if (behaviour === 'hang') this.hung.push(response);
        else response.writeHead(behaviour).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
    return this;
  }

  answerNext(...behaviours: ReceiverBehaviour[]): void {
    this.queue.push(...behaviours);
  }

  /** The received webhooks that verify with `secret`, parsed, with their `webhook-id`. */
  verified(secret: string): { id: string; type: string; timestamp: string; data: Record<string, unknown> }[] {
    const verifier = new Webhook(secret);
    return this.received.map(({ headers, body }) => {
      const payload = verifier.verify(body, headers as Record<string, string>) as {
        type: string;
        timestamp: string;
        data: Record<string, unknown>;
      };
      return { id: headers['webhook-id'] as string, ...payload };
    });
  }

  async stop(): Promise<void> {
    for (const response of this.hung) response.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
