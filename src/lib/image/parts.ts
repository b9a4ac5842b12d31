/** What the store's operations (pull, push, load, save, gc) work with: the parts an ImageStore is made of. */
import type { LayerContent } from './content.js';
import type { StoreLayout } from './layout.js';
import type { ImageRecords } from './records.js';
import type { RegistryConfig } from './registry-config.js';
import type { RegistryClient } from './registry.js';

export interface StoreParts {
  readonly layout: StoreLayout;
  readonly content: LayerContent;
  readonly records: ImageRecords;
  readonly registry: RegistryConfig;
  readonly client: RegistryClient;
}

/** A progress event of pull/push (the runtime's PullProgress shape). */
export interface ImageProgress {
  ref: string;
  layer?: string;
  status: string;
  current?: number;
  total?: number;
}
