/**
 * A short run of the native runtime's crash test (test/heavy/crash.test.ts, whose 50 points at random fractions run
 * in `npm run test:heavy`): one point per command, each at a fixed fraction of the command's measured duration, so
 * that `npm test` catches a regression in what a `kill -9` of the CLI leaves: each rerun converges, nothing leaks,
 * `check` passes, the named volume's data stays. About a minute. Its report: $TMPDIR/tscompose-crash-20261206.log.
 */
import { crashSuite } from '../heavy/crash-suite.js';

crashSuite(
  {
    seed: 20261206,
    points: [
      { command: 'up', fraction: 0.45 },
      { command: 'down', fraction: 0.5 },
      { command: 'build', fraction: 0.6 },
      { command: 'pull', fraction: 0.35 },
      { command: 'load', fraction: 0.65 },
      { command: 'rm', fraction: 0.5 },
    ],
  },
  'native runtime crash test, six points',
);
