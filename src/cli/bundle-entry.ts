/** Entry of the bundled CLI (scripts/bundle.mjs → dist/tscompose.cjs), started by bin/tscompose. */
export { main } from './run-cli.js';
