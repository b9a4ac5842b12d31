/** Docker's `GET /images/{name}/json` answer as the runtime port's ImageDetails. */
import { summarizeImageConfig } from '../../lib/image/config-details.js';
import type { ImageDetails } from '../runtime.js';

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function imageDetailsOf(raw: unknown): ImageDetails {
  const d = obj(raw);
  const variant = str(d.Variant);
  const author = str(d.Author);
  return {
    id: str(d.Id),
    repoTags: strings(d.RepoTags),
    repoDigests: strings(d.RepoDigests),
    created: str(d.Created),
    architecture: str(d.Architecture),
    os: str(d.Os),
    ...(variant ? { variant } : {}),
    sizeBytes: typeof d.Size === 'number' ? d.Size : 0,
    ...(author ? { author } : {}),
    config: summarizeImageConfig(d.Config),
    layers: strings(obj(d.RootFS).Layers),
  };
}
