import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { TEST_POSTGRES_URL } from './services';

/** A fresh PostgreSQL database per test app; refuses any name that is not a test database. */
export async function createTestDatabase(purpose: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `otp_${purpose.replace(/\W/g, '_').toLowerCase()}_${randomBytes(4).toString('hex')}_test`;
  if (!name.endsWith('_test')) throw new Error(`refusing to use database ${name}: its name must end in _test`);
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`) };
}

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
