/**
 * The project the secrets end-to-end tests (native-secrets.test.ts, docker-secrets.test.ts) run: a file secret bound
 * as it is, the same file copied with a mode and owner of its own, an `environment:` secret whose variable is set
 * only in the project's .env file (never in the CLI's environment), and a config with a mode and owner.
 */
import { randomBytes } from 'node:crypto';

export interface SecretsFixture {
  readonly files: Record<string, string>;
  /** The file secret's content and the environment secret's. */
  readonly fileSecret: string;
  readonly envSecret: string;
  /** `path → "mode uid gid"` as `stat -c '%a %u %g'` prints it in the container, and the content there. */
  readonly expected: Readonly<Record<string, { readonly stat: string; readonly content: string }>>;
}

export function secretsFixture(image: string): SecretsFixture {
  const fileSecret = `file-secret-${randomBytes(8).toString('hex')}`;
  const envSecret = `env-secret-${randomBytes(8).toString('hex')}`;
  const compose = `services:
  app:
    image: ${image}
    command: ["sleep", "3600"]
    init: true
    secrets:
      - plain_file
      - source: from_env
        mode: 0400
        uid: "1000"
        gid: "1000"
      - source: plain_file
        target: owned_file
        mode: 0440
        uid: "1000"
        gid: "1001"
    configs:
      - source: conf
        target: /etc/app.conf
        mode: 0440
        uid: "1000"
secrets:
  plain_file:
    file: ./secret.txt
  from_env:
    environment: TSC_E2E_SECRET
configs:
  conf:
    content: hello-config
`;
  return {
    files: { 'compose.yaml': compose, 'secret.txt': fileSecret, '.env': `TSC_E2E_SECRET=${envSecret}\n` },
    fileSecret,
    envSecret,
    expected: {
      '/run/secrets/from_env': { stat: '400 1000 1000', content: envSecret },
      '/run/secrets/owned_file': { stat: '440 1000 1001', content: fileSecret },
      '/etc/app.conf': { stat: '440 1000 0', content: 'hello-config' },
      '/run/secrets/plain_file': { stat: '644 0 0', content: fileSecret },
    },
  };
}
