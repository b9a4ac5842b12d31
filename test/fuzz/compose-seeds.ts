/**
 * Seeds of the loader fuzz test (../fuzz.test.ts): an inline compose file and a spread of the conformance corpus in
 * the project's ../shared (awesome-compose, compose-go-merge, compose-go-full-example), and the aux files (env,
 * label) they refer to.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function projectRoot(): string {
  try {
    return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  } catch {
    return process.cwd();
  }
}

const INLINE_SEEDS = [
  [
    'name: inline',
    'x-base: &base',
    '  restart: always',
    '  environment: {A: "${A:-1}"}',
    'services:',
    '  web:',
    '    <<: *base',
    '    build: {context: ., args: [X=1]}',
    '    ports: ["8080:80", "127.0.0.1:9000-9001:9000-9001/udp"]',
    '    volumes: ["./src:/app:ro", "data:/data"]',
    '    depends_on: {db: {condition: service_healthy}}',
    '    healthcheck: {test: "curl -f localhost", interval: 10s}',
    '    profiles: [web]',
    '  db:',
    '    image: postgres:16',
    '    extends: base2',
    '  base2:',
    '    image: x',
    '    secrets: [pw]',
    'volumes:',
    '  data: {}',
    'secrets:',
    '  pw: {environment: PW}',
    '',
  ].join('\n'),
];

/** Files the seeds refer to (env files, label files), copied beside the fuzzed compose.yaml. */
export function auxFiles(): { name: string; path: string }[] {
  const full = resolve(projectRoot(), '../shared/conformance/compose-go-full-example');
  if (!existsSync(full)) return [];
  return readdirSync(full)
    .filter((f) => /\.(env|label)$/.test(f))
    .map((f) => ({ name: f, path: join(full, f) }));
}

export function loadSeeds(): { name: string; text: string }[] {
  const shared = resolve(projectRoot(), '../shared/conformance');
  const seeds: { name: string; text: string }[] = INLINE_SEEDS.map((text, i) => ({ name: `inline${i}`, text }));
  if (!existsSync(shared)) return seeds;
  const awesome = join(shared, 'awesome-compose');
  if (existsSync(awesome)) {
    const picked = readdirSync(awesome)
      .sort()
      .flatMap((d) => ['compose.yaml', 'compose.yml'].map((f) => join(awesome, d, f)))
      .filter((p) => existsSync(p));
    // Every fourth one: a spread of the corpus.
    for (const p of picked.filter((_, i) => i % 4 === 0)) seeds.push({ name: p.slice(shared.length + 1), text: readFileSync(p, 'utf8') });
  }
  const merge = join(shared, 'compose-go-merge');
  if (existsSync(merge)) {
    const cases = readdirSync(merge).sort();
    for (const c of cases.filter((_, i) => i % 15 === 0)) {
      // expected.yaml rather than override.yaml: overrides alone lack `image` and fail the consistency check.
      for (const f of ['base.yaml', 'expected.yaml']) {
        const p = join(merge, c, f);
        if (existsSync(p)) seeds.push({ name: `compose-go-merge/${c}/${f}`, text: readFileSync(p, 'utf8') });
      }
    }
  }
  const full = join(shared, 'compose-go-full-example', 'full-example.yml');
  if (existsSync(full)) seeds.push({ name: 'compose-go-full-example/full-example.yml', text: readFileSync(full, 'utf8') });
  return seeds;
}
