/** `image ls [REPOSITORY[:TAG]]`. */
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../../errors.js';
import type { ContextOf } from '../../context.js';
import { collect } from '../common.js';
import { withImageIO, type ImageIO } from './io.js';

export function imageLsCommand(image: Command, context: ContextOf) {
  return image
    .command('ls')
    .alias('list')
    .description('List images')
    .option('-q, --quiet', 'only show image IDs')
    .option('--format <format>', 'table or json', 'table')
    .option('--no-trunc', "don't truncate output")
    .option('--digests', 'show digests')
    .option('-f, --filter <filter>', 'filter output: dangling=BOOL, reference=PATTERN, label=KEY[=VALUE] (repeatable)', collect)
    .argument('[repository]', 'REPOSITORY[:TAG]')
    .action(async (reference, opts, cmd) =>
      withImageIO(context(cmd), 'ls', false, (io) => imageLs(io, reference, { ...opts, noTrunc: opts.trunc === false })),
    );
}

export interface LsOptions {
  readonly quiet?: boolean | undefined;
  readonly format?: string | undefined;
  readonly noTrunc?: boolean | undefined;
  readonly digests?: boolean | undefined;
  readonly filter?: readonly string[] | undefined;
}

export async function imageLs(io: ImageIO, reference: string | undefined, opts: LsOptions = {}): Promise<void> {
  const format = opts.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError(`unsupported --format: ${format} (table or json)`);
  const [{ imageRowFilter, listImageRows }, { imageLsText }] = await Promise.all([
    import('../../../engine/image-tools.js'),
    import('../../render/images.js'),
  ]);
  const keep = imageRowFilter(opts.filter ?? []);
  const rows = await listImageRows(await io.session(), keep, reference);
  io.stdout.write(
    imageLsText(rows, { quiet: opts.quiet, json: format === 'json', noTrunc: opts.noTrunc, digests: opts.digests, now: io.now?.() ?? Date.now() }),
  );
}
