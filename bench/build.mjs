#!/usr/bin/env node
// Times image builds: the native builder (`tscompose --runtime native build`) beside Docker Engine building the same
// Dockerfile in the same run: `docker build` (the classic builder: this machine's docker CLI has no buildx) and
// `tscompose --runtime docker build` (the Engine API; BuildKit where the engine has it). Two projects: the
// flask+redis example and a generated 10-step multi-stage Dockerfile; each cold (`--no-cache`: every step runs,
// base images present) and with no change (everything cached). Alternates which tool goes first; prints medians and
// the native builder's time over each Docker one as a markdown block for the README.
//
// Usage: node bench/build.mjs [--runs N] [--only native]
// Needs: npm run build; the base images in the native store (scripts/native-images.sh) and in Docker
// (scripts/engine-env.sh: busybox and python:3.11-slim through the local registry mirror).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt('--runs', '5'));
const onlyNative = opt('--only', '') === 'native';
const root = resolve(new URL('..', import.meta.url).pathname);
const tscompose = join(root, 'bin/tscompose');
const env = { ...process.env, NO_COLOR: '1' };
for (const k of Object.keys(env)) if (k.startsWith('COMPOSE_')) delete env[k];

function sh(cmd, argv, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env, ...options });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${r.stderr || r.stdout}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A 10-step multi-stage Dockerfile (no heredocs or RUN --mount: the classic builder must take it too). */
function multiStage(dir) {
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (let i = 0; i < 200; i++) writeFileSync(join(dir, 'src', `f${i}.txt`), `file ${i}\n`.repeat(50));
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM busybox:latest AS data
RUN dd if=/dev/zero of=/blob bs=1M count=8 2>/dev/null
RUN for i in $(seq 1 300); do echo $i > /tmp/n$i; done && tar -C /tmp -cf /nums.tar .
FROM busybox:latest AS app
WORKDIR /srv
COPY src/ ./src/
RUN find /srv -type f | wc -l > /srv/count
FROM busybox:latest
COPY --from=data /blob /nums.tar /data/
COPY --from=app /srv /srv
RUN rm -f /data/blob && ls /data /srv > /manifest
ENV MODE=bench
CMD ["cat", "/manifest"]
`,
  );
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  app:\n    build: .\n    image: bench-multistage:latest\n');
  return { dir, image: 'bench-multistage:latest', dockerfile: join(dir, 'Dockerfile') };
}

function flask(dir) {
  spawnSync('cp', ['-r', join(root, 'examples/flask-redis/.'), dir]);
  writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    build: .\n    image: bench-flask:latest\n');
  return { dir, image: 'bench-flask:latest', dockerfile: join(dir, 'Dockerfile') };
}

// Cold: --no-cache (no step is taken from the cache; base images stay), so the Docker engine's cache, which other
// users of the engine may rely on, is never pruned.
const tools = {
  native: {
    build: (p, cold) => sh(tscompose, ['--runtime', 'native', '--progress', 'quiet', 'build', ...(cold ? ['--no-cache'] : [])], { cwd: p.dir }),
  },
  'docker build': {
    build: (p, cold) =>
      sh('docker', ['build', '-q', ...(cold ? ['--no-cache'] : []), '-t', p.image, '.'], { cwd: p.dir, env: { ...env, DOCKER_BUILDKIT: '0' } }),
  },
  'tscompose --runtime docker': {
    build: (p, cold) => sh(tscompose, ['--runtime', 'docker', '--progress', 'quiet', 'build', ...(cold ? ['--no-cache'] : [])], { cwd: p.dir }),
  },
};

const names = onlyNative ? ['native'] : Object.keys(tools);
const work = mkdtempSync(join(tmpdir(), 'tscompose-bench-build-'));
const projects = { 'flask+redis example': flask(join(work, 'flask')), '10-step multi-stage': multiStage(join(work, 'multi')) };
mkdirSync(join(work, 'flask'), { recursive: true });
const results = {};
try {
  for (const [pname, p] of Object.entries(projects)) {
    for (const n of names) {
      // warm-up: base images present, page cache warm
      tools[n].build(p, false);
    }
    for (const mode of ['cold', 'no change']) {
      for (let r = 0; r < runs; r++) {
        const order = r % 2 ? [...names].reverse() : names;
        for (const n of order) {
          const ms = tools[n].build(p, mode === 'cold');
          ((results[`${pname}|${mode}`] ??= {})[n] ??= []).push(ms);
        }
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
console.log(`\nBuild times, median of ${runs} runs (${new Date().toISOString().slice(0, 10)}, ${process.arch}):\n`);
console.log(
  `| project | build | ${names.join(' | ')} |${
    names.length > 1
      ? names
          .slice(1)
          .map((n) => ` native / ${n} |`)
          .join('')
      : ''
  }`,
);
console.log(
  `|---|---|${names.map(() => '---|').join('')}${names
    .slice(1)
    .map(() => '---|')
    .join('')}`,
);
for (const [key, byTool] of Object.entries(results)) {
  const [pname, mode] = key.split('|');
  const med = Object.fromEntries(names.map((n) => [n, median(byTool[n])]));
  const ratios = names.slice(1).map((n) => ` ${(med.native / med[n]).toFixed(2)}× |`);
  console.log(`| ${pname} | ${mode} | ${names.map((n) => fmt(med[n])).join(' | ')} |${ratios.join('')}`);
}
