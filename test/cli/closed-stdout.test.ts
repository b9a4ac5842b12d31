/**
 * A reader that goes away early (`tscompose config | head -1`): the CLI stops quietly with status 0, as docker
 * compose does, instead of an unhandled EPIPE and a stack trace. Runs the built dist/cli/main.js.
 */
import { afterAll, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const main = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tsc-epipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('config with its reader gone after the first chunk: exit 0, nothing on stderr', async () => {
  // Far more output than a pipe holds, so the CLI is still writing when the reader goes.
  let yaml = 'services:\n';
  for (let i = 0; i < 3000; i++) yaml += `  svc${i}:\n    image: busybox\n    environment: {INDEX: "${i}", PAD: "${'x'.repeat(60)}"}\n`;
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  const child = spawn(process.execPath, [main, 'config'], { cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(first).toMatch(/^name: tsc-epipe-/);
  expect(stderr).toBe('');
  expect(code).toBe(0);
}, 30_000);
