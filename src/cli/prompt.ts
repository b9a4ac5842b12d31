/** Yes/no questions (`rm`, `image prune`): the question on stderr, the answer from stdin. */
import { CanceledError } from './canceled.js';

/** True for `y` or `yes` (any case). An abort of `signal` while asking is a CanceledError. */
export async function confirm(
  question: string,
  io: { readonly input: NodeJS.ReadableStream; readonly output: NodeJS.WritableStream },
  options: { signal?: AbortSignal | undefined; terminal?: boolean } = {},
): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: io.input, output: io.output, ...(options.terminal === undefined ? {} : { terminal: options.terminal }) });
  try {
    const answer = await rl.question(question, options.signal ? { signal: options.signal } : {});
    return /^y(es)?$/i.test(answer.trim());
  } catch (e) {
    if (options.signal?.aborted) throw new CanceledError();
    throw e;
  } finally {
    rl.close();
  }
}
