#!/usr/bin/env node
// Runs the TypeScript sources through tsx so that the bin works on a fresh clone
// right after `npm ci`, with no build output committed.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
