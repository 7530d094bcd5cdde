#!/usr/bin/env node
// Entry point installed as `ztroot`: Node 24 runs the TypeScript sources directly.
import { runCli } from '../src/cli/main.ts';

runCli(process.argv.slice(2));
