/**
 * Editors' temporary and lock files, which a file watch never syncs. Follows docker compose's pkg/watch
 * EphemeralPathMatcher (JetBrains `*___jb_tmp___`/`*___jb_old___` and `.idea/`, emacs `.#*` and `#*#`, vim `4913`,
 * `*~`, `.*.swp`/`.swx`/`.swo`/`.swn`, kate `.*.kate-swp`, Go's `*-go-tmp-umask`), plus macOS's `.DS_Store`.
 * Compose matches `.idea/**` under any directory; here `.idea` is ephemeral as a name, so the tree watcher never
 * descends into it, which ignores the same files.
 */

const VIM_SWAP = new Set(['.swp', '.swx', '.swo', '.swn']);

/** Whether a file name (basename, not a path) is an editor's temporary file that watch never syncs. */
export function isEphemeral(name: string): boolean {
  if (name === '4913' || name === '.DS_Store' || name === '.idea') return true;
  if (name.endsWith('~')) return true;
  if (name.endsWith('___jb_tmp___') || name.endsWith('___jb_old___')) return true;
  if (name.endsWith('-go-tmp-umask')) return true;
  if (name.startsWith('.#')) return true;
  if (name.length >= 2 && name.startsWith('#') && name.endsWith('#')) return true;
  if (name.startsWith('.')) {
    // `.*.swp`: a leading dot, then anything (maybe empty), then the suffix.
    if (name.length >= 5 && VIM_SWAP.has(name.slice(-4))) return true;
    if (name.length >= 10 && name.endsWith('.kate-swp')) return true;
  }
  return false;
}
