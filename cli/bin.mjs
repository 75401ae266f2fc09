#!/usr/bin/env node
// Entry point for `npx isocheck`: load the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
// A closed pipe (`isocheck list | head`) is not an error.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
