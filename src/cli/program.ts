/**
 * The command-line program: global options (as docker compose) and one lazily imported module per command,
 * so `tscompose config` never loads runtime code.
 */
import { Command, Option } from '@commander-js/extra-typings';
import type { LoadOptions } from '../project/load.js';
import type { Output } from './output.js';

export interface GlobalOptions {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
  profile?: string[];
  parallel?: string;
  progress?: string;
  ansi?: string;
  dryRun?: boolean;
  runtime?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export interface CommandContext {
  readonly globals: GlobalOptions;
  readonly out: Output;
  /** LoadOptions built from the global options (and the services named on the command line). */
  loadOptions(services?: readonly string[]): LoadOptions;
}

/**
 * An option whose name starts with `--no-` but takes a value (`up --no-attach SERVICE`): commander would treat it as
 * the negation of `--attach`; this one is a plain repeatable option stored under `attribute`.
 */
function valueOption(flags: string, description: string, attribute: string): Option {
  const o = new Option(flags, description).argParser(collect) as unknown as Option & { negate: boolean; attributeName: () => string };
  o.negate = false;
  o.attributeName = () => attribute;
  return o;
}

export function buildProgram(makeContext: (globals: GlobalOptions) => CommandContext): Command {
  const program = new Command('tscompose')
    .description('Define and run multi-container applications: docker compose, in TypeScript, with Docker or a native runtime')
    .version('0.1.0', '-v, --version')
    .showSuggestionAfterError(true)
    .enablePositionalOptions()
    .option('-f, --file <file>', 'compose configuration file (repeatable; - for stdin)', collect)
    .option('-p, --project-name <name>', 'project name')
    .option('--project-directory <dir>', 'alternate working directory (default: the directory of the first compose file)')
    .option('--env-file <file>', 'alternate environment file (repeatable)', collect)
    .option('--profile <profile>', 'profile to enable (repeatable)', collect)
    .option('--parallel <n>', 'maximum parallelism, -1 for unlimited')
    .addOption(new Option('--progress <mode>', 'progress output').choices(['auto', 'tty', 'plain', 'json', 'quiet']))
    .addOption(new Option('--ansi <when>', 'control characters: never, always, auto').choices(['never', 'always', 'auto']).default('auto'))
    .option('--dry-run', 'show what would change, change nothing')
    .addOption(new Option('--runtime <runtime>', 'container runtime').choices(['docker', 'native', 'auto']).env('TSCOMPOSE_RUNTIME'));

  const ctx = (cmd: { optsWithGlobals(): object }): CommandContext => makeContext(cmd.optsWithGlobals() as GlobalOptions);

  program
    .command('config')
    .description('Parse, resolve and render the compose file in canonical format')
    .addOption(new Option('--format <format>', 'output format').choices(['yaml', 'json']).default('yaml'))
    .option('-o, --output <file>', 'save to file (default: stdout)')
    .option('-q, --quiet', 'only validate the configuration, print nothing')
    .option('--services', 'print the service names, one per line')
    .option('--volumes', 'print the volume names, one per line')
    .option('--networks', 'print the network names, one per line')
    .option('--profiles', 'print the profile names, one per line')
    .option('--images', 'print the image names, one per line')
    .option('--hash <services>', 'print the config hash of the services ("*" for all)')
    .option('--no-interpolate', "don't interpolate environment variables")
    .option('--no-consistency', "don't check model consistency (report problems as warnings)")
    .argument('[services...]', 'services to render')
    .action(async (services, opts, cmd) => {
      const { runConfig } = await import('./commands/config.js');
      await runConfig(ctx(cmd), services, opts);
    });

  const timeout = () => new Option('-t, --timeout <seconds>', 'shutdown timeout in seconds');

  const upLike = (name: 'up' | 'create', description: string) => {
    const c = program
      .command(name)
      .description(description)
      .option('--build', 'build images before starting containers')
      .option('--no-build', "don't build an image, even if it's missing")
      .addOption(new Option('--pull <policy>', 'pull image before running').choices(['always', 'missing', 'never', 'policy', 'build']))
      .option('--quiet-pull', 'pull without printing progress information')
      .option('--force-recreate', 'recreate containers even if their configuration and image have not changed')
      .option('--no-recreate', "if containers already exist, don't recreate them")
      .option('--remove-orphans', 'remove containers for services not defined in the compose file')
      .option('--scale <service=num>', 'scale SERVICE to NUM instances (repeatable)', collect)
      .option('-y, --yes', 'assume yes to all prompts');
    return c;
  };

  upLike('up', 'Create and start containers')
    .option('-d, --detach', 'detached mode: run containers in the background')
    .option('--always-recreate-deps', 'recreate dependent containers (incompatible with --no-recreate)')
    .option('--wait', 'wait for services to be running|healthy (implies detached mode)')
    .option('--wait-timeout <seconds>', 'maximum duration to wait for the project to be running|healthy')
    .option('--abort-on-container-exit', 'stop all containers if any container was stopped')
    .option('--abort-on-container-failure', 'stop all containers if any container exited with failure')
    .option('--exit-code-from <service>', 'return the exit code of the selected service container (implies --abort-on-container-exit)')
    .addOption(timeout())
    .option('--no-start', "don't start the services after creating them")
    .option('--no-deps', "don't start linked services")
    .option('--attach <service>', 'restrict attaching to the specified services (repeatable)', collect)
    .addOption(valueOption('--no-attach <service>', "don't attach to the specified service (repeatable)", 'noAttach'))
    .option('-V, --renew-anon-volumes', 'recreate anonymous volumes instead of retrieving data from the previous containers')
    .option('--no-color', 'produce monochrome output')
    .option('--no-log-prefix', "don't print prefix in logs")
    .option('--timestamps', 'show timestamps')
    .argument('[services...]', 'services to start')
    .action(async (services, opts, cmd) => {
      const { runUp } = await import('./commands/up.js');
      await runUp(ctx(cmd), services, opts as never);
    });

  upLike('create', 'Creates containers for a service')
    .argument('[services...]', 'services to create')
    .action(async (services, opts, cmd) => {
      const { runCreate } = await import('./commands/create.js');
      await runCreate(ctx(cmd), services, opts as never);
    });

  program
    .command('down')
    .description('Stop and remove containers, networks')
    .option('-v, --volumes', 'remove named volumes declared in the "volumes" section and anonymous volumes attached to containers')
    .option('--rmi <type>', 'remove images used by services: "local" (no custom tag) or "all"')
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .addOption(timeout())
    .action(async (opts, cmd) => {
      const { runDown } = await import('./commands/down.js');
      await runDown(ctx(cmd), opts);
    });

  program
    .command('ps')
    .description('List containers')
    .option('-a, --all', 'show all stopped containers')
    .option('-q, --quiet', 'only display IDs')
    .option('--services', 'display services')
    .option('--status <status>', 'filter services by status (repeatable)', collect)
    .option('--filter <filter>', 'filter services by a property (status=STATE)')
    .option('--format <format>', 'format the output: table or json', 'table')
    .argument('[services...]')
    .action(async (services, opts, cmd) => {
      const { runPs } = await import('./commands/ps.js');
      await runPs(ctx(cmd), services, opts);
    });

  program
    .command('logs')
    .description('View output from containers')
    .option('-f, --follow', 'follow log output')
    .option('-n, --tail <lines>', 'number of lines to show from the end of the logs for each container', 'all')
    .option('-t, --timestamps', 'show timestamps')
    .option('--since <time>', 'show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('--until <time>', 'show logs before a timestamp or relative')
    .option('--no-color', 'produce monochrome output')
    .option('--no-log-prefix', "don't print prefix in logs")
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .argument('[services...]')
    .action(async (services, opts, cmd) => {
      const { runLogs } = await import('./commands/logs.js');
      await runLogs(ctx(cmd), services, opts);
    });

  const lifecycle = (name: 'start' | 'stop' | 'restart' | 'kill' | 'pause' | 'unpause' | 'rm', description: string) =>
    program
      .command(name)
      .description(description)
      .argument('[services...]')
      .action(async (services: string[], opts: object, cmd: { optsWithGlobals(): object }) => {
        const mod = (await import(`./commands/${name}.js`)) as Record<string, (c: CommandContext, s: string[], o: object) => Promise<void>>;
        await mod[`run${name[0]!.toUpperCase()}${name.slice(1)}`]!(ctx(cmd), services, opts);
      });
  lifecycle('start', 'Start services').option('--wait', 'wait for services to be running|healthy').option('--wait-timeout <seconds>', 'maximum duration to wait');
  lifecycle('stop', 'Stop services').addOption(timeout());
  lifecycle('restart', 'Restart service containers').addOption(timeout()).option('--no-deps', "don't restart dependent services");
  lifecycle('kill', 'Force stop service containers').option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL').option('--remove-orphans', 'remove containers for services not defined in the compose file');
  lifecycle('pause', 'Pause services');
  lifecycle('unpause', 'Unpause services');
  lifecycle('rm', 'Removes stopped service containers')
    .option('-f, --force', "don't ask to confirm removal")
    .option('-s, --stop', 'stop the containers, if required, before removing')
    .option('-v, --volumes', 'remove any anonymous volumes attached to containers');

  program
    .command('exec')
    .description('Execute a command in a running container')
    .option('-d, --detach', 'detached mode: run command in the background')
    .option('-e, --env <KEY=VAL>', 'set environment variables (repeatable)', collect)
    .option('--index <n>', 'index of the container if service has multiple replicas', '1')
    .option('-T, --no-tty', 'disable pseudo-TTY allocation')
    .option('--privileged', 'give extended privileges to the process')
    .option('-u, --user <user>', 'run the command as this user')
    .option('-w, --workdir <dir>', 'path to workdir directory for this command')
    .argument('<service>')
    .argument('<command...>')
    .passThroughOptions()
    .action(async (service, command, opts, cmd) => {
      const { runExec } = await import('./commands/exec.js');
      await runExec(ctx(cmd), service, command, opts);
    });

  program
    .command('run')
    .description('Run a one-off command on a service')
    .option('--build', 'build image before starting container')
    .option('-d, --detach', 'run container in background and print container ID')
    .option('--entrypoint <cmd>', 'override the entrypoint of the image')
    .option('-e, --env <KEY=VAL>', 'set environment variables (repeatable)', collect)
    .option('-l, --label <KEY=VAL>', 'add or override a label (repeatable)', collect)
    .option('--name <name>', 'assign a name to the container')
    .option('-T, --no-tty', 'disable pseudo-TTY allocation')
    .option('--no-deps', "don't start linked services")
    .option('-p, --publish <port>', "publish a container's port(s) to the host (repeatable)", collect)
    .addOption(new Option('--pull <policy>', 'pull image before running').choices(['always', 'missing', 'never', 'policy', 'build']))
    .option('--quiet-pull', 'pull without printing progress information')
    .option('--remove-orphans', 'remove containers for services not defined in the compose file')
    .option('--rm', 'automatically remove the container when it exits')
    .option('-P, --service-ports', "run command with all service's ports enabled and mapped to the host")
    .option('--use-aliases', "use the service's network aliases in the network(s) the container connects to")
    .option('-u, --user <user>', 'run as specified username or uid')
    .option('-w, --workdir <dir>', 'working directory inside the container')
    .argument('<service>')
    .argument('[command...]')
    .passThroughOptions()
    .action(async (service, command, opts, cmd) => {
      const { runRun } = await import('./commands/run.js');
      await runRun(ctx(cmd), service, command, opts);
    });

  program
    .command('port')
    .description('Print the public port for a port binding')
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .addOption(new Option('--protocol <proto>', 'tcp or udp').choices(['tcp', 'udp']).default('tcp'))
    .argument('<service>')
    .argument('<private_port>')
    .action(async (service, privatePort, opts, cmd) => {
      const { runPort } = await import('./commands/port.js');
      await runPort(ctx(cmd), service, privatePort, opts);
    });

  program
    .command('images')
    .description('List images used by the created containers')
    .option('-q, --quiet', 'only display IDs')
    .option('--format <format>', 'table or json', 'table')
    .argument('[services...]')
    .action(async (services, opts, cmd) => {
      const { runImages } = await import('./commands/images.js');
      await runImages(ctx(cmd), services, opts);
    });

  program
    .command('ls')
    .description('List running compose projects')
    .option('-a, --all', 'show all stopped compose projects')
    .option('-q, --quiet', 'only display project names')
    .option('--format <format>', 'table or json', 'table')
    .option('--filter <filter>', 'filter output based on conditions provided (name=NAME)')
    .action(async (opts, cmd) => {
      const { runLs } = await import('./commands/ls.js');
      await runLs(ctx(cmd), opts);
    });

  program
    .command('top')
    .description('Display the running processes')
    .argument('[services...]')
    .action(async (services, _opts, cmd) => {
      const { runTop } = await import('./commands/top.js');
      await runTop(ctx(cmd), services);
    });

  program
    .command('wait')
    .description('Block until containers of all (or specified) services stop')
    .option('--down-project', 'drops project when the first container stops')
    .argument('[services...]')
    .action(async (services, opts, cmd) => {
      const { runWait } = await import('./commands/wait.js');
      await runWait(ctx(cmd), services, opts);
    });

  program
    .command('events')
    .description('Receive real time events from containers')
    .option('--json', 'output events as a stream of json objects')
    .argument('[services...]')
    .action(async (services, opts, cmd) => {
      const { runEvents } = await import('./commands/events.js');
      await runEvents(ctx(cmd), services, opts);
    });

  program
    .command('cp')
    .description('Copy files/folders between a service container and the local filesystem')
    .option('--all', 'include containers created by the run command')
    .option('-a, --archive', 'archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'always follow symbol link in SRC_PATH')
    .option('--index <n>', 'index of the container if service has multiple replicas')
    .argument('<source>', 'SERVICE:SRC_PATH or a local path')
    .argument('<destination>', 'SERVICE:DEST_PATH or a local path')
    .action(async (source, destination, opts, cmd) => {
      const { runCp } = await import('./commands/cp.js');
      await runCp(ctx(cmd), source, destination, opts);
    });

  program
    .command('pull')
    .description('Pull service images')
    .option('--ignore-buildable', 'ignore images that can be built')
    .option('--ignore-pull-failures', 'pull what it can and ignores images with pull failures')
    .option('--include-deps', 'also pull services declared as dependencies')
    .option('--policy <policy>', 'apply pull policy ("missing"|"always")')
    .option('-q, --quiet', 'pull without printing progress information')
    .argument('[services...]')
    .action(async (services, opts, cmd) => {
      const { runPull } = await import('./commands/pull.js');
      await runPull(ctx(cmd), services, opts);
    });

  program
    .command('push')
    .description('Push service images')
    .option('--ignore-push-failures', 'push what it can and ignores images with push failures')
    .option('--include-deps', 'also push images of services declared as dependencies')
    .option('-q, --quiet', 'push without printing progress information')
    .argument('[services...]')
    .action(async (services, opts, cmd) => {
      const { runPush } = await import('./commands/push.js');
      await runPush(ctx(cmd), services, opts);
    });

  program
    .command('build')
    .description('Build or rebuild services')
    .option('--build-arg <KEY=VAL>', 'set build-time variables for services (repeatable)', collect)
    .option('--no-cache', 'do not use cache when building the image')
    .option('--pull', 'always attempt to pull a newer version of the image')
    .option('--with-dependencies', 'also build dependencies (transitively)')
    .option('-q, --quiet', "don't print anything to stdout")
    .argument('[services...]')
    .action(async (services, opts, cmd) => {
      const { runBuild } = await import('./commands/build.js');
      await runBuild(ctx(cmd), services, { ...opts, ...(opts.cache === false ? { noCache: true as const } : {}) });
    });

  // `image …`: image tools for users without a Docker CLI (no compose file needed)
  const image = program.command('image').description('Manage images (no compose file needed)');
  const imageCmd = async (): Promise<typeof import('./commands/image.js')> => import('./commands/image.js');
  image
    .command('ls')
    .alias('list')
    .description('List images')
    .option('-q, --quiet', 'only show image IDs')
    .option('--format <format>', 'table or json', 'table')
    .option('--no-trunc', "don't truncate output")
    .option('--digests', 'show digests')
    .option('-f, --filter <filter>', 'filter output: dangling=BOOL, reference=PATTERN, label=KEY[=VALUE] (repeatable)', collect)
    .argument('[repository]', 'REPOSITORY[:TAG]')
    .action(async (reference, opts, cmd) => {
      await (await imageCmd()).runImageLs(ctx(cmd), reference, { ...opts, noTrunc: opts.trunc === false });
    });
  image
    .command('pull')
    .description('Download images from a registry')
    .option('-q, --quiet', 'suppress verbose output')
    .option('--platform <platform>', 'set platform if server is multi-platform capable')
    .argument('<refs...>', 'NAME[:TAG|@DIGEST]')
    .action(async (refs, opts, cmd) => {
      await (await imageCmd()).runImagePull(ctx(cmd), refs, opts);
    });
  image
    .command('push')
    .description('Upload an image to a registry')
    .option('-q, --quiet', 'suppress verbose output')
    .argument('<ref>', 'NAME[:TAG]')
    .action(async (ref, opts, cmd) => {
      await (await imageCmd()).runImagePush(ctx(cmd), ref, opts);
    });
  image
    .command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>', 'SOURCE_IMAGE[:TAG] or image ID')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action(async (source, target, _opts, cmd) => {
      await (await imageCmd()).runImageTag(ctx(cmd), source, target);
    });
  image
    .command('rm')
    .alias('remove')
    .description('Remove one or more images')
    .option('-f, --force', 'force removal of the image')
    .argument('<refs...>', 'images (names or IDs)')
    .action(async (refs, opts, cmd) => {
      await (await imageCmd()).runImageRm(ctx(cmd), refs, opts);
    });
  image
    .command('inspect')
    .description('Display detailed information on one or more images (JSON)')
    .argument('<refs...>', 'images (names or IDs)')
    .action(async (refs, _opts, cmd) => {
      await (await imageCmd()).runImageInspect(ctx(cmd), refs);
    });
  image
    .command('load')
    .description('Load images from a tar archive (docker save format) or STDIN')
    .option('-i, --input <file>', 'read from tar archive file, instead of STDIN')
    .action(async (opts, cmd) => {
      await (await imageCmd()).runImageLoad(ctx(cmd), opts);
    });
  image
    .command('save')
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .option('-o, --output <file>', 'write to a file, instead of STDOUT')
    .argument('<refs...>', 'images (names or IDs)')
    .action(async (refs, opts, cmd) => {
      await (await imageCmd()).runImageSave(ctx(cmd), refs, opts);
    });
  image
    .command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'remove all unused images, not just dangling ones')
    .option('-f, --force', 'do not prompt for confirmation')
    .action(async (opts, cmd) => {
      await (await imageCmd()).runImagePrune(ctx(cmd), opts);
    });

  return program;
}
