import type { FastifyReply } from 'fastify';

/** A rendered page: HTML, never cached (pages carry CSRF tokens and personal data). */
export function sendPage(reply: FastifyReply, status: number, html: string): void {
  reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(html);
}
