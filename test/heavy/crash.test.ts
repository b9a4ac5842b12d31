/**
 * Crash test of the native runtime (issue 14, "whole after any crash"): the CLI is SIGKILLed at CRASH_POINTS random
 * points (default 50) spread over `up -d`, `down`, `build`, `pull`, `image load` and `rm -f -s` of a project with
 * four services on two networks, a published port, a named volume, a bind mount and a `build:` service
 * (crash-project.ts). Each command's normal duration is measured first (a cycle without a kill); a point's delay is
 * uniform in [0, 1.2 × that duration], so kills land in every phase, and some after the end.
 *
 * Each point (crash-cycles.ts): the command's starting state is prepared, the command started and killed, the same
 * command run again — it must succeed and converge (one running container per service after `up -d`, none after
 * `down` / `rm -f -s`, an image whose files are those of an uninterrupted pull/build/load) — then a `down` (and the
 * loaded image removed). After each point and at the end: nothing leaked (test/e2e/host-snapshot.ts, plus OCI
 * containers, container records, build scratch and networks in the runtime's state), `tscompose check` passes
 * (a warning while the command does not exist yet), and the volume's marker file written once is still there.
 * A failed point is reported with what the killed command printed last, then the state is brought back (`down`,
 * `check --repair`, pull, build, up); when even that fails, the run stops there (later points would only repeat it).
 *
 * Replay: CRASH_SEED=<seed> (printed) [CRASH_POINTS=n] [CRASH_COMMANDS=build,pull] or CRASH_PLAN=build@1234,up@500
 * (exact delays), `npm run test:heavy -- test/heavy/crash.test.ts`. The report is also written to
 * $TMPDIR/tscompose-crash-<seed>.log; CRASH_KEEP=1 keeps the state directory.
 */
import { crashPlan } from './crash-plan.js';
import { crashSuite } from './crash-suite.js';

crashSuite(crashPlan());
