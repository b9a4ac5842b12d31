#!/usr/bin/env node
/** The unbundled entry point (`node dist/cli/main.js …`); bin/tscompose runs the bundle when it is built. */
import { main } from './run-cli.js';

// A leading `--` keeps the arguments from Node (which reads an `--env-file` anywhere before one: see bin/tscompose);
// it is not an argument of tscompose. (bin/launch.cjs drops it before the bundle or this module runs.)
const argv = process.argv.slice(2);
if (argv[0] === '--') argv.shift();
process.exitCode = await main(argv);
