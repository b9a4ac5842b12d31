/** The build context library (issue 11): `.dockerignore`, `COPY`/`ADD` source selection, content hashes. */
export { ContextPatternError, CopyDestinationError, CopySourceError } from './errors.js';
export { DockerIgnore, cleanPath, loadDockerIgnore, parseDockerignore, readIgnoreFile } from './ignore.js';
export type { IgnoreFile } from './ignore.js';
export { walkContext } from './walk.js';
export type { ContextEntry } from './walk.js';
export { containsWildcards, globToRegExp, splitWildcards } from './glob.js';
export { cleanSource, expandSource, parseChmod, parseChown, resolveInContext, selectCopy } from './select.js';
export type { CopyEntry, EntryType, Owner, SelectOptions } from './select.js';
export { FileHashCache, hashContext, hashFile, hashSelection } from './hash.js';
export type { ContextDigest, HashOptions } from './hash.js';
