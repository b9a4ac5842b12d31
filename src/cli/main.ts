#!/usr/bin/env node
/** The unbundled entry point (`node dist/cli/main.js …`); bin/tscompose runs the bundle when it is built. */
import { main } from './run-cli.js';

process.exitCode = await main(process.argv.slice(2));
