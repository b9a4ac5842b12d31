#!/usr/bin/env node
// Rewrites README.md's compose service key table (between <!-- keys:start --> and <!-- keys:end -->) from
// src/engine/key-support.ts, compiled: run `npx tsc -p tsconfig.build.json` first. src/engine/key-support.test.ts
// fails while the README differs from the table.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { keyTableMarkdown } = await import(join(root, 'dist/engine/key-support.js'));
const file = join(root, 'README.md');
const text = readFileSync(file, 'utf8');
const start = '<!-- keys:start -->';
const end = '<!-- keys:end -->';
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a < 0 || b < a) throw new Error(`README.md has no ${start} … ${end} section`);
writeFileSync(file, `${text.slice(0, a + start.length)}\n${keyTableMarkdown()}\n${text.slice(b)}`);
