/**
 * The db/app/web stack the swarm stack tests deploy (stack/reconcile.test.ts on plain data, stack/stack.test.ts on
 * the fake swarm): db healthy before app, app before web, a file secret both use. `appExtra` adds lines under
 * `app:` (indented 4), `extra` top-level lines after `secrets:`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadProjectSync } from '../../project/load.js';
import type { Project } from '../../project/types.js';

export function demoCompose(appExtra = '', extra = ''): string {
  return `
services:
  db:
    image: postgres:16
    healthcheck: {test: ["CMD", "pg_isready"], interval: 2s}
    secrets: [dbpass]
  app:
    image: registry.local/app:1
    depends_on: {db: {condition: service_healthy}}
    secrets: [dbpass]
${appExtra}  web:
    image: nginx:1
    depends_on: [app]
    ports: ["8080:80"]
secrets:
  dbpass: {file: ./dbpass.txt}
${extra}`;
}

/** Writes `compose` and the secret's file into `dir` and loads it as project `demo`. */
export function loadDemo(dir: string, compose: string, secret: string): Project {
  writeFileSync(join(dir, 'compose.yaml'), compose);
  writeFileSync(join(dir, 'dbpass.txt'), secret);
  return loadProjectSync({ cwd: dir, env: {}, projectName: 'demo' }).project;
}
