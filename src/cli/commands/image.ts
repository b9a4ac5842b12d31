/**
 * `image ls|pull|push|tag|rm|inspect|load|save|prune`: the image tools of image-ops.ts on the runtime `--runtime`
 * picks. No compose file is read; `--dry-run` is refused for the subcommands that change something.
 */
import { UsageError } from '../../errors.js';
import { CanceledError } from '../canceled.js';
import type { CommandContext } from '../program.js';
import { openSession, type Session } from '../session.js';
import { imageInspect, imageLoad, imageLs, imagePrune, imagePull, imagePush, imageRm, imageSave, imageTag, type ImageIO, type LsOptions } from './image-ops.js';

async function withImageIO(ctx: CommandContext, name: string, mutates: boolean, fn: (io: ImageIO) => Promise<void>): Promise<void> {
  if (mutates && ctx.globals.dryRun) throw new UsageError(`--dry-run is not supported by image ${name}`);
  let session: Session | undefined;
  const io: ImageIO = {
    session: async () => (session ??= await openSession(ctx, { dryRun: false })).engine,
    stdout: ctx.out.stdout as NodeJS.WritableStream & { isTTY?: boolean },
    stderr: ctx.out.stderr,
    stdin: process.stdin,
  };
  try {
    await fn(io);
  } catch (e) {
    if (session?.controller.signal.aborted && !(e instanceof CanceledError)) throw new CanceledError();
    throw e;
  } finally {
    session?.close();
  }
}

export const runImageLs = (ctx: CommandContext, reference: string | undefined, opts: LsOptions): Promise<void> => withImageIO(ctx, 'ls', false, (io) => imageLs(io, reference, opts));

export const runImagePull = (ctx: CommandContext, refs: string[], opts: { quiet?: true; platform?: string }): Promise<void> => withImageIO(ctx, 'pull', true, (io) => imagePull(io, refs, opts));

export const runImagePush = (ctx: CommandContext, ref: string, opts: { quiet?: true }): Promise<void> => withImageIO(ctx, 'push', true, (io) => imagePush(io, ref, opts));

export const runImageTag = (ctx: CommandContext, source: string, target: string): Promise<void> => withImageIO(ctx, 'tag', true, (io) => imageTag(io, source, target));

export const runImageRm = (ctx: CommandContext, refs: string[], opts: { force?: true }): Promise<void> => withImageIO(ctx, 'rm', true, (io) => imageRm(io, refs, opts));

export const runImageInspect = (ctx: CommandContext, refs: string[]): Promise<void> => withImageIO(ctx, 'inspect', false, (io) => imageInspect(io, refs));

export const runImageLoad = (ctx: CommandContext, opts: { input?: string }): Promise<void> => withImageIO(ctx, 'load', true, (io) => imageLoad(io, opts));

export const runImageSave = (ctx: CommandContext, refs: string[], opts: { output?: string }): Promise<void> => withImageIO(ctx, 'save', false, (io) => imageSave(io, refs, opts));

export const runImagePrune = (ctx: CommandContext, opts: { all?: true; force?: true }): Promise<void> => withImageIO(ctx, 'prune', true, (io) => imagePrune(io, opts));
