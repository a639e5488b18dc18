import { connect } from 'node:net';

/** A request exactly as it goes on the wire. Header values are byte strings (one char per byte, latin1). */
export interface WireRequest {
  method: string;
  path: string;
  headers: [name: string, value: string][];
  body?: Buffer;
  /** Sent instead of the body's real length; null sends no Content-Length at all. */
  contentLength?: number | null;
}

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON when it is JSON, else undefined. */
  body: any;
}

/** The UTF-8 bytes of a text as a byte string, for a header value no HTTP client would send as is. */
export function utf8Bytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/**
 * Sends the request over a fresh connection and reads the first response; null when the server
 * answered nothing. `halfClose` ends the sending side at once, for a request the server would
 * otherwise wait on forever (a body shorter than its Content-Length); Node drops a request whose
 * client half-closed before the answer was ready, so it is off otherwise.
 */
export function sendWire(
  baseUrl: string,
  request: WireRequest,
  { halfClose = false, timeoutMs = 10_000 } = {},
): Promise<WireResponse | null> {
  const { hostname, port } = new URL(baseUrl);
  const body = request.body ?? Buffer.alloc(0);
  const contentLength =
    request.contentLength === undefined ? (request.body ? body.length : undefined) : request.contentLength;
  const head = [
    `${request.method} ${request.path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Connection: close',
    ...request.headers.map(([name, value]) => `${name}: ${value}`),
    ...(contentLength === undefined || contentLength === null ? [] : [`Content-Length: ${contentLength}`]),
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy());
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('close', () => resolve(parseResponse(Buffer.concat(chunks))));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error),
    );
    const bytes = Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), body]);
    if (halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

function parseResponse(received: Buffer): WireResponse | null {
  const headEnd = received.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const [statusLine, ...headerLines] = received.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (Number.isNaN(status)) return null;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let payload = received.subarray(headEnd + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) payload = dechunk(payload);
  else if (headers['content-length'] !== undefined) payload = payload.subarray(0, Number(headers['content-length']));
  const text = payload.toString('utf8');
  let body: unknown;
  if (/json/i.test(headers['content-type'] ?? '')) {
    try {
      body = JSON.parse(text);
    } catch {
      /* left undefined: the caller sees the text */
    }
  }
  return { status, headers, text, body };
}

function dechunk(payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < payload.length) {
    const lineEnd = payload.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(payload.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(payload.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** A JSON object written member by member, so that members can repeat and values can be any JSON text. */
export function jsonObjectText(members: [key: string, valueText: string][]): string {
  return `{${members.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;
}

const base64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT whose parts are whatever the caller says: for headers that must be refused, never trusted. */
export function forgedJwt(header: unknown, payload: unknown, signature = ''): string {
  return `${base64url(header)}.${base64url(payload)}.${signature}`;
}

/** The claims of a JWT, read without verifying it (the test's own tokens). */
export function jwtClaims(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
