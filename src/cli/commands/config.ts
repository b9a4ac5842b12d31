/**
 * `tscompose config`: the canonical model, or parts of it (--services, --volumes, …, --hash), or the variables it
 * uses (--variables) and the environment it is interpolated with (--environment). As docker compose's
 * `cmd/compose/config.go`, with one difference: the model is printed as compose-go's loader gives it (what the
 * conformance corpus checks: compose-go's full example and merge cases, with env_file kept beside the merged
 * `environment`), and `--normalize` prints it normalised as docker compose does by default
 * (./../../project/normalize.ts: the default network, resource names, implicit dependencies; env_file and
 * label_file left out once merged unless --no-env-resolution), so the two can be diffed. `--no-normalize` is
 * accepted (the default).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { writeOutputFile } from '../output.js';

export function configCommand(program: Command, context: ContextOf) {
  return program
    .command('config')
    .description('Parse, resolve and render the compose file in canonical format')
    .addOption(
      new Option('--format <format>', 'output format: yaml (default), json; --variables: table (default), json, yaml').choices([
        'yaml',
        'json',
        'table',
      ]),
    )
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
    .option('--normalize', "normalize the model as docker compose's config prints it (default network, resource names, implicit dependencies)")
    .option('--no-normalize', "don't normalize the compose model (the default)")
    .option('--no-path-resolution', "don't resolve file paths")
    .option('--no-env-resolution', "don't resolve the services' env files into their environment")
    .option('--variables', 'print the variables the model uses, with their default values')
    .option('--environment', 'print the environment used for interpolation')
    .option('--resolve-image-digests', 'pin image tags to digests (pulls an image the runtime does not have)')
    .argument('[services...]', 'services to render')
    .action(async (services, opts, cmd) => runConfig(context(cmd), services, opts));
}

export interface ConfigOptions {
  format?: string;
  output?: string;
  quiet?: true;
  services?: true;
  volumes?: true;
  networks?: true;
  profiles?: true;
  images?: true;
  hash?: string;
  interpolate: boolean;
  consistency: boolean;
  normalize?: boolean;
  envResolution?: boolean;
  pathResolution?: boolean;
  variables?: true;
  environment?: true;
  resolveImageDigests?: true;
}

export async function runConfig(ctx: CommandContext, services: string[], opts: ConfigOptions): Promise<void> {
  // `config` renders even an inconsistent model (as warnings), like `docker compose config --no-consistency`
  // would for the checks it can skip; `-q` validates as strictly as `up` does.
  const strict = opts.quiet === true && opts.consistency;
  if (opts.format === 'table' && !opts.variables) throw new UsageError('unsupported format "table" (yaml or json; table is for --variables)');
  if (opts.variables) {
    // As docker compose: the model's variables as written, not interpolated, of every service.
    if (services.length > 0) ctx.out.warn('service filtering is not applied when --variables is set, variables from the full model will be rendered');
    const { modelVariables, formatVariables } = await import('../../project/variables.js');
    const vars = modelVariables(ctx.loadOptions(), (m) => ctx.out.warn(m));
    if (!opts.quiet) ctx.out.stdout.write(formatVariables(vars, (opts.format ?? 'table') as 'table' | 'json' | 'yaml'));
    return;
  }
  const [{ loadProjectSync }, { serviceConfigHash }, { allProfiles }, { projectToJson, projectToYaml }] = await Promise.all([
    import('../../project/load.js'),
    import('../../project/hash.js'),
    import('../../project/profiles.js'),
    import('../../project/serialize.js'),
  ]);
  const envResolution = opts.envResolution !== false;
  const { project, meta } = loadProjectSync({
    ...ctx.loadOptions(services),
    interpolate: opts.interpolate,
    consistency: strict ? 'error' : opts.consistency ? 'warn' : 'off',
    ...(envResolution ? {} : { resolveEnvFiles: false }),
    ...(opts.pathResolution === false ? { resolvePaths: false } : {}),
  });
  if (opts.environment) {
    if (!opts.quiet)
      ctx.out.stdout.write(
        Object.entries(meta.environment)
          .map(([k, v]) => `${k}=${v}`)
          .sort()
          .map((l) => l + '\n')
          .join(''),
      );
    return;
  }
  for (const s of services) if (!(s in project.services)) throw new UsageError(`no such service: ${s}`);
  const selected = services.length > 0 ? { ...project, services: Object.fromEntries(services.map((s) => [s, project.services[s]!])) } : project;
  const lines = (xs: Iterable<string>): string => [...xs].map((x) => x + '\n').join('');
  let text: string;
  if (opts.quiet) return;
  if (opts.services) text = lines(Object.keys(selected.services));
  else if (opts.volumes) text = lines(Object.keys(project.volumes ?? {}));
  else if (opts.networks) text = lines(Object.keys(project.networks ?? {}));
  else if (opts.profiles) text = lines(allProfiles({ ...project.services, ...meta.disabledServices }));
  else if (opts.images) text = lines(Object.entries(selected.services).map(([name, svc]) => svc.image ?? `${project.name}-${name}`));
  else if (opts.hash !== undefined) {
    const wanted = opts.hash === '*' ? Object.keys(selected.services) : opts.hash.split(',').map((s) => s.trim());
    for (const s of wanted) if (!project.services[s]) throw new UsageError(`no such service: ${s}`);
    // The hash `up` labels containers with: it covers the content of the service's secrets, configs and env files.
    const { digestsOf, readInputs } = await import('../../engine/inputs.js');
    const inputs = await readInputs(project, { services: wanted, workingDir: meta.workingDir });
    text = lines(wanted.map((s) => `${s} ${serviceConfigHash(project.services[s]!, digestsOf(inputs[s] ?? []))}`));
  } else {
    const { normalizeProject, withoutEnvFiles } = await import('../../project/normalize.js');
    const normalize = opts.normalize === true;
    let rendered = normalize ? normalizeProject(selected, meta.environment) : selected;
    if (opts.resolveImageDigests) {
      const [{ createRuntime }, { resolveImageDigests }] = await Promise.all([import('../runtime.js'), import('../../engine/resolve-digests.js')]);
      rendered = await resolveImageDigests(await createRuntime(ctx.globals.runtime), rendered);
    }
    // docker compose leaves env_file and label_file out once merged; without --normalize they stay, as compose-go's
    // loader gives the model (SkipNormalization), so that output compares with compose-go's own.
    if (normalize) rendered = withoutEnvFiles(rendered, { envFiles: envResolution, labelFiles: true });
    const serialize = opts.format === 'json' ? projectToJson : projectToYaml;
    text = serialize(rendered, { escapeDollar: opts.interpolate });
  }
  if (opts.output) writeOutputFile(opts.output, text);
  else ctx.out.stdout.write(text);
}
