#!/usr/bin/env node
// Entry point installed as `ztroot`: Node 24 runs the TypeScript sources directly, served
// already stripped of their types when the cache has them (src/boot/stripped-sources.js). The
// command line is imported dynamically so that the hook is in place before any of it loads.
import '../src/boot/stripped-sources.js';

const { runCli } = await import('../src/cli/main.ts');
runCli(process.argv.slice(2));
