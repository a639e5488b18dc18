import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestApp } from './test-app';

export const COMPILED_CLI = join(__dirname, '..', '..', 'dist', 'src', 'cli.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled operator CLI the way an operator would: its own directory, the deployment's environment. */
export function runCli(app: Pick<TestApp, 'env'>, ...args: string[]): Promise<CliResult> {
  const cwd = mkdtempSync(join(tmpdir(), 'cli-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [COMPILED_CLI, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...app.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => {
      rmSync(cwd, { recursive: true, force: true });
      resolve({ status, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

/** A service token minted by the CLI, as an operator would. */
export async function mintServiceToken(
  app: Pick<TestApp, 'env'>,
  scope: string,
  ttl = '1h',
  service = 'tests',
): Promise<string> {
  const minted = await runCli(app, 'token', '--service', service, '--scope', scope, '--ttl', ttl);
  if (minted.status !== 0) throw new Error(`cli token exited ${minted.status}: ${minted.stderr}`);
  return minted.stdout;
}
