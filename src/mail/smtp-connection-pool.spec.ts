import { createTransport, Transporter } from 'nodemailer';
import { SmtpSink } from '../../test/support/smtp-sink';
import { composeMessage } from './mime-message';
import { SmtpConnectionPool } from './smtp-connection-pool';

const FROM = { name: 'Sign-in', address: 'no-reply@example.com' };

/** The pool as the mailer drives it, against a real SMTP server in this process. */
describe('SmtpConnectionPool', () => {
  let sink: SmtpSink;
  let pool: SmtpConnectionPool;
  let mailer: Transporter;

  beforeEach(async () => {
    sink = new SmtpSink();
    const port = await sink.start();
    pool = new SmtpConnectionPool({ host: '127.0.0.1', port, ignoreTLS: true, connectionTimeout: 2000, greetingTimeout: 2000, socketTimeout: 2000 }, 3);
    mailer = createTransport(pool);
  });
  afterEach(async () => {
    pool.close();
    await sink.stop();
  });

  const send = (to: string) =>
    mailer.sendMail({ envelope: { from: FROM.address, to: [to] }, ...composeMessage(FROM, { to, subject: 'Your code', text: `Your code is ${to.length}00000`, html: '<p>code</p>' }) });

  it('delivers each message whole, over at most maxConnections connections, kept for the next messages', async () => {
    const addresses = Array.from({ length: 12 }, (_, i) => `user${i}@example.com`);
    const results = await Promise.all(addresses.map(send));

    expect(results.map((result) => result.accepted)).toEqual(addresses.map((address) => [address]));
    addresses.forEach((address, i) =>
      expect(sink.messagesTo(address)).toEqual([expect.objectContaining({ subject: 'Your code', messageId: results[i].messageId, text: expect.stringContaining('Your code is') })]),
    );
    expect(results[0].messageId).toMatch(/^<[\w-]+@example\.com>$/);
    expect(sink.connectionCount).toBe(3);
    await send('again@example.com');
    expect(sink.connectionCount).toBe(3);
  });

  it('fails a refused message with the server’s reply, and sends the next one', async () => {
    sink.mode = 'reject';
    await expect(send('refused@example.com')).rejects.toMatchObject({ responseCode: 550 });
    sink.mode = 'accept';
    await send('next@example.com');
    expect(sink.messagesTo('next@example.com')).toHaveLength(1);
  });

  it('forgets connections the server dropped while they were idle', async () => {
    await Promise.all(['a@example.com', 'b@example.com'].map(send));
    sink.mode = 'close';
    await new Promise((resolve) => setTimeout(resolve, 50));
    sink.mode = 'accept';

    await send('after-drop@example.com');
    expect(sink.messagesTo('after-drop@example.com')).toHaveLength(1);
  });

  it('answers verify() only when the server accepts a connection', async () => {
    await expect(pool.verify()).resolves.toBe(true);
    sink.mode = 'close';
    await expect(pool.verify()).rejects.toThrow();
  });

  it('refuses messages once closed', async () => {
    pool.close();
    await expect(send('late@example.com')).rejects.toThrow('the SMTP pool is closed');
  });
});
