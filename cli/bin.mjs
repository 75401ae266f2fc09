#!/usr/bin/env node
// Entry point for `npx isocheck`: load the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
