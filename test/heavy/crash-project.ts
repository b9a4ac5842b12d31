/**
 * The crash test's project (test/heavy/crash.test.ts): four services on two networks — `web` (busybox httpd on a
 * published port, a bind mount and the named volume), `worker` (debian:bookworm-slim, the volume too: a 29 MB layer
 * for `pull` to be killed in), `cache` (busybox) and `app` (`build:` of a small Dockerfile FROM busybox with COPY
 * and RUN steps) — plus `loaded` (profile `load`, never started by `up`) to run the image `image load` brings in,
 * and the source of that image: a small busybox-based image with a layer of its own (a random 3 MB blob and 300
 * files), built once, saved with `image save` and removed, so each load really unpacks a layer.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVICES = ['app', 'cache', 'web', 'worker'] as const;
export const LOAD_IMAGE = 'crash-load:1';
export const PULLED_IMAGES = ['busybox:latest', 'debian:bookworm-slim'] as const;

/** Shell commands whose output fingerprints an image's files (run in a container of it; same output = same files). */
export const FINGERPRINT = {
  app: 'cat /app/hello.txt /app/built; cd /app && md5sum -c seq.md5; ls /app/many | wc -l',
  worker: 'cat /etc/debian_version; find / -xdev | wc -l; md5sum /usr/bin/dpkg /bin/bash',
  cache: 'busybox --list | wc -l; find / -xdev | wc -l',
  loaded: 'md5sum -c /blob.md5; ls /many | wc -l; cat /many/f300',
} as const;

export function writeProject(dir: string, port: number): void {
  const files: Record<string, string> = {
    'compose.yaml': `services:
  web:
    image: busybox:latest
    init: true
    command: ["httpd", "-f", "-p", "8080", "-h", "/site"]
    ports: ["127.0.0.1:${port}:8080"]
    volumes: ["./site:/site:ro", "data:/data"]
    networks: [front, back]
  worker:
    image: debian:bookworm-slim
    init: true
    command: ["sleep", "3600"]
    volumes: ["data:/data"]
    networks: [back]
  cache:
    image: busybox:latest
    init: true
    command: ["sleep", "3600"]
    networks: [back]
  app:
    build: ./app
    init: true
    networks: [front]
  loaded:
    image: ${LOAD_IMAGE}
    profiles: [load]
    network_mode: none
    command: ["true"]
networks:
  front: {}
  back: {}
volumes:
  data: {}
`,
    'site/index.html': 'crash-test\n',
    'app/Dockerfile': `FROM busybox:latest
COPY hello.txt /app/
RUN seq 1 50000 > /app/seq && cd /app && md5sum seq > seq.md5
RUN mkdir -p /app/many && for i in $(seq 1 200); do echo $i > /app/many/f$i; done
RUN echo built > /app/built
CMD ["sleep", "3600"]
`,
    'app/hello.txt': 'hello from the crash test\n',
    'loadsrc/compose.yaml': `services:\n  src:\n    build: .\n    image: ${LOAD_IMAGE}\n`,
    'loadsrc/Dockerfile': `FROM busybox:latest
RUN head -c 3000000 /dev/urandom > /blob && md5sum /blob > /blob.md5
RUN mkdir /many && for i in $(seq 1 300); do echo $i > /many/f$i; done
`,
  };
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
}
