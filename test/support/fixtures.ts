import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, onTestFinished } from 'vitest';
import type { CoreOptions } from '../../src/compose.js';
import type { ListenerOptions } from '../../src/http/server.js';
import { startListeningServer, startTestServer, type TestServer } from './app.js';

/**
 * A value made fresh for every test of the calling file (or `describe` block): `start` runs in
 * `beforeEach`, `stop` in `afterEach`. What it returns is a stand-in that forwards every
 * property to the current test's value, so a file declares `const t = useTestServer()` once
 * and its tests and helpers use `t` as they would the value itself. Touching the stand-in
 * outside a test (at module level, in `beforeAll`) throws, since there is no value then.
 */
export function perTest<T extends object>(what: string, start: () => Promise<T>, stop: (value: T) => Promise<unknown> | unknown): T {
  let current: T | undefined;
  beforeEach(async () => {
    current = await start();
  });
  afterEach(async () => {
    const value = current;
    current = undefined;
    if (value !== undefined) await stop(value);
  });
  return standIn(what, () => current);
}

/**
 * An object that forwards every property to what `current()` returns at the time of use; the
 * mechanism behind `perTest`, for fixtures that hand out several values (an emulator and its
 * clients). Throws, naming `what`, when there is no current value.
 */
export function standIn<T extends object>(what: string, current: () => T | undefined): T {
  const now = (): T => {
    const value = current();
    if (value === undefined) throw new Error(`${what} exists only while a test runs (it is made in beforeEach)`);
    return value;
  };
  return new Proxy({} as T, {
    get: (_target, prop) => {
      const value = now();
      const member = Reflect.get(value, prop, value) as unknown;
      // A class's methods run against the real value, which may keep private state the
      // stand-in lacks; own members (closures, a clock) are handed out as they are.
      const inherited = typeof member === 'function' && !Object.prototype.hasOwnProperty.call(value, prop);
      return inherited ? (member as (...args: unknown[]) => unknown).bind(value) : member;
    },
    set: (_target, prop, member) => Reflect.set(now(), prop, member),
    has: (_target, prop) => Reflect.has(now(), prop),
    ownKeys: () => Reflect.ownKeys(now()),
    getOwnPropertyDescriptor: (_target, prop) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(now(), prop);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/** A fresh dev server (see `startTestServer`) for every test of the calling file or `describe` block, closed after it. */
export function useTestServer(options: Partial<CoreOptions> = {}): TestServer {
  return perTest('the test server', () => startTestServer(options), (t) => t.close());
}

/** A server listening on a loopback port (see `startListeningServer`) for every test of the calling file or block. */
export function useListeningServer(
  options: Partial<CoreOptions> = {},
  listener: Partial<ListenerOptions> = {},
): Awaited<ReturnType<typeof startListeningServer>> {
  return perTest('the listening server', () => startListeningServer(options, listener), (s) => s.close());
}

/**
 * Closes `resource` when the current test finishes, pass or fail; for what a test starts itself
 * (a second server on the same file, a server with options of its own). Returns `resource`.
 * Closing it earlier in the test is fine: the helpers' `close` may be called twice.
 */
export function closeAfterTest<T extends { close(): Promise<unknown> | unknown }>(resource: T): T {
  onTestFinished(async () => {
    await resource.close();
  });
  return resource;
}

/** A fresh temporary directory, removed (with whatever a test wrote there) when the test finishes. */
export function tempDirForTest(prefix = 'ferry-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
