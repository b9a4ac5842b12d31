/**
 * The watch library's errors: the ones a tree watcher cannot recover from, handed to its `onError` (or thrown by
 * `watchTree` while it sets the watches up).
 */
import { CodedError, type CodedErrorOptions } from '../errors.js';

/** The kernel refused another inotify watch: the per-user limit (fs.inotify.max_user_watches) is reached. */
export class WatchLimitError extends CodedError {
  readonly path: string;
  constructor(path: string, options: CodedErrorOptions = {}) {
    super(
      'TSC_WATCH_LIMIT',
      `cannot watch ${path}: the inotify watch limit is reached (fs.inotify.max_user_watches); changes under it are not seen`,
      {
        hint: 'raise the limit, e.g. `sysctl -w fs.inotify.max_user_watches=524288`, or ignore large directories (node_modules, .git) in the watch rules',
        ...options,
      },
    );
    this.path = path;
  }
}

/** Any other failure to watch a path (permission denied, too many open files, …). */
export class WatchError extends CodedError {
  readonly path: string;
  constructor(path: string, detail: string, options: CodedErrorOptions = {}) {
    super('TSC_WATCH', `cannot watch ${path}: ${detail}`, options);
    this.path = path;
  }
}
