/** The errors of the layer differ (an overlay upper directory → a layer tar) and of committing into the store. */
import { CodedError, type CodedErrorOptions } from '../../errors.js';

/** The upper directory cannot be turned into a layer (an overlay feature the differ does not read, a bad name, …). */
export class LayerDiffError extends CodedError {
  readonly path: string | undefined;
  constructor(detail: string, path?: string, options: CodedErrorOptions = {}) {
    super('TSC_IMAGE_LAYER_DIFF', path === undefined ? `layer diff: ${detail}` : `layer diff: ${detail}: ${JSON.stringify(path)}`, options);
    this.path = path;
  }
}

/** An image commit that does not add up (history entries vs layers, a layer missing from the store). */
export class ImageCommitError extends CodedError {
  constructor(detail: string, options: CodedErrorOptions = {}) {
    super('TSC_IMAGE_COMMIT', `committing an image: ${detail}`, options);
  }
}
