/**
 * `tscompose config`: the canonical model, or parts of it (--services, --volumes, …, --hash).
 */
import { Option, type Command } from '@commander-js/extra-typings';
import { UsageError } from '../../errors.js';
import type { CommandContext, ContextOf } from '../context.js';
import { writeOutputFile } from '../output.js';

export function configCommand(program: Command, context: ContextOf) {
  return program
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
    .action(async (services, opts, cmd) => runConfig(context(cmd), services, opts));
}

export interface ConfigOptions {
  format: string;
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
}

export async function runConfig(ctx: CommandContext, services: string[], opts: ConfigOptions): Promise<void> {
  // `config` renders even an inconsistent model (as warnings), like `docker compose config --no-consistency`
  // would for the checks it can skip; `-q` validates as strictly as `up` does.
  const strict = opts.quiet === true && opts.consistency;
  const [{ loadProjectSync }, { serviceConfigHash }, { allProfiles }, { projectToJson, projectToYaml }] = await Promise.all([
    import('../../project/load.js'),
    import('../../project/hash.js'),
    import('../../project/profiles.js'),
    import('../../project/serialize.js'),
  ]);
  const { project, meta } = loadProjectSync({
    ...ctx.loadOptions(services),
    interpolate: opts.interpolate,
    consistency: strict ? 'error' : 'warn',
  });
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
    const serialize = opts.format === 'json' ? projectToJson : projectToYaml;
    text = serialize(selected, { escapeDollar: opts.interpolate });
  }
  if (opts.output) writeOutputFile(opts.output, text);
  else ctx.out.stdout.write(text);
}
