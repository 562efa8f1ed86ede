import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/process.js';
import { CHROMIUM_MISSING, seriousA11yViolations, signInWithToken, startUiHarness, tabTo, type UiHarness } from './browser.js';

/**
 * The web UI as narrower tokens see it, and its promises about values: a read-only sync token
 * (signed in with userpass) sees everything and is offered no action; a one-destination token
 * sees and acts on its destination only; values appear only when revealed and never reach the
 * URL, storage, the console or the server log; a 403 on lookup-self ends the session; the
 * keyboard alone can drive it; it reflows at 200 % zoom.
 */
if (CHROMIUM_MISSING) {
  console.warn(CHROMIUM_MISSING);
  it.skip(CHROMIUM_MISSING, () => {});
}

const READER_POLICY = `
path "sys/sync/*" { capabilities = ["read", "list"] }
path "secret/metadata/*" { capabilities = ["read", "list"] }
path "secret/data/*" { capabilities = ["read"] }
`;
const TEAM_A_POLICY = `
path "sys/sync/destinations/aws-sm/team-a" { capabilities = ["read"] }
path "sys/sync/destinations/aws-sm/team-a/*" { capabilities = ["read", "update"] }
path "secret/metadata/*" { capabilities = ["read", "list"] }
path "secret/data/other" { capabilities = ["read"] }
`;
const VALUE = 'shared-value-7c1f0e';

describe.skipIf(!!CHROMIUM_MISSING)('web UI: what narrower tokens see, values, keyboard and zoom', { timeout: 60_000 }, () => {
  let h: UiHarness;
  let teamAToken: string;
  const ACTIONS = ['Edit', 'Delete…', 'Associate a secret', 'New destination', 'Remove', 'Retry', 'Confirm remove'];

  beforeAll(async () => {
    h = await startUiHarness();
    const ok = async (p: Promise<{ status: number; body: any }>) => {
      const res = await p;
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
      return res.body;
    };
    for (const name of ['team-a', 'team-b']) {
      await ok(
        h.api('POST', `sys/sync/destinations/aws-sm/${name}`, {
          access_key_id: 'AKIAUIACCESS00000001',
          secret_access_key: 'ui-access-secret',
          region: 'us-east-1',
          endpoint_url: h.emu.endpoint,
        }),
      );
    }
    for (const path of ['shared', 'kbd', 'other']) await ok(h.api('POST', `secret/data/${path}`, { data: { value: `${VALUE}-${path}` } }));
    await ok(h.api('POST', 'sys/sync/destinations/aws-sm/team-a/associations/set', { mount: 'secret', secret_name: 'shared' }));
    await ok(h.api('POST', 'sys/policies/acl/sync-reader', { policy: READER_POLICY }));
    await ok(h.api('POST', 'sys/policies/acl/team-a-only', { policy: TEAM_A_POLICY }));
    await ok(h.api('POST', 'sys/auth/userpass', { type: 'userpass' }));
    await ok(h.api('POST', 'auth/userpass/users/reader', { password: 'reader-password', policies: 'sync-reader' }));
    teamAToken = (await ok(h.api('POST', 'auth/token/create', { policies: ['team-a-only'] }))).auth.client_token;
    await waitUntil('secret/shared to be synced', async () => {
      const res = await h.api('GET', 'sys/sync/destinations/aws-sm/team-a/associations');
      return Object.values(res.body.data.associated_secrets).every((a: any) => a.sync_status === 'SYNCED');
    });
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('a read-only sync token (userpass sign-in) sees every destination and its associations, and is offered no action', async () => {
    const { page } = await h.newPage();
    await page.goto(`${h.url}/ui/`);
    await page.getByLabel('Username and password').check();
    await page.getByRole('textbox', { name: 'Username' }).fill('reader');
    await page.getByLabel('Password', { exact: true }).fill('reader-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as').waitFor();
    // The password is not kept; the token userpass returned is, in session storage only.
    const stored = await page.evaluate(() => JSON.stringify({ ...(globalThis as any).sessionStorage }) + JSON.stringify({ ...(globalThis as any).localStorage }));
    expect(stored).not.toContain('reader-password');
    for (const name of ['team-a', 'team-b']) await page.locator(`tr[data-destination="${name}"]`).getByText('AWS: OK').waitFor();
    expect(await page.getByRole('link', { name: 'New destination' }).count()).toBe(0);

    await page.getByRole('link', { name: 'team-a' }).click();
    await page.locator('tr[data-secret="secret/shared"] .badge', { hasText: 'SYNCED' }).waitFor();
    await page.getByTestId('with-last-error').waitFor();
    for (const name of ACTIONS) expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);
    expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Ferry' }).waitFor();
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0);
  });

  it('values appear only when revealed, and never in the URL, storage, the console or the server log', async () => {
    const { page } = await h.newPage();
    const consoleText: string[] = [];
    page.on('console', (m) => consoleText.push(m.text()));
    await page.goto(`${h.url}/ui/`);
    await signInWithToken(page, 'root');
    await page.getByRole('link', { name: 'team-a' }).click();
    await page.getByRole('link', { name: 'secret/shared' }).click();
    await page.getByRole('heading', { name: 'secret/shared' }).waitFor();
    await page.getByRole('link', { name: 'aws-sm/team-a' }).waitFor();
    await page.getByRole('rowheader', { name: '1 (current)' }).waitFor();
    expect(await page.content()).not.toContain(VALUE);

    await page.getByRole('button', { name: 'Reveal values' }).click();
    await page.getByText(`${VALUE}-shared`).waitFor();
    await h.screenshot(page, 'secret');
    expect(await seriousA11yViolations(page)).toEqual([]);
    expect(page.url()).not.toContain(VALUE);
    const stored = await page.evaluate(() => JSON.stringify({ ...(globalThis as any).sessionStorage }) + JSON.stringify({ ...(globalThis as any).localStorage }) + (globalThis as any).document.cookie);
    expect(stored).not.toContain(VALUE);
    // The HTTP cache may not keep it either: the API answers with no-store.
    const res = await fetch(`${h.url}/v1/secret/data/shared`, { headers: { 'X-Vault-Token': 'root' } });
    expect(res.headers.get('cache-control')).toBe('no-store');

    await page.getByRole('button', { name: 'Hide values' }).click();
    await page.getByRole('button', { name: 'Reveal values' }).waitFor();
    expect(await page.content()).not.toContain(VALUE);
    expect(consoleText.join('\n')).not.toContain(VALUE);
    expect(h.logs.join('')).not.toContain(VALUE);
  });

  it('a one-destination token sees and acts on its destination only', async () => {
    const { page } = await h.newPage();
    await page.goto(`${h.url}/ui/`);
    await signInWithToken(page, teamAToken);
    await page.getByText('This token may not list destinations').waitFor();
    expect(await page.getByRole('link', { name: 'New destination' }).count()).toBe(0);
    await page.getByLabel('Destination name').fill('team-a');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.locator('tr[data-secret="secret/shared"]').waitFor();
    // update on team-a/* (associations), read only on the destination itself.
    await page.getByRole('button', { name: 'Associate a secret' }).waitFor();
    await page.getByRole('button', { name: 'Remove secret/shared' }).waitFor();
    expect(await page.getByRole('button', { name: 'Edit', exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Delete…' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Associate a secret' }).click();
    // Associating needs read on the secret (Ferry's rule): refused for kbd, accepted for other.
    await page.getByRole('button', { name: 'kbd', exact: true }).click();
    await page.getByRole('button', { name: 'Associate', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Permission denied' }).waitFor();
    await page.getByRole('button', { name: 'other', exact: true }).click();
    await page.getByRole('button', { name: 'Associate', exact: true }).click();
    await page.locator('tr[data-secret="secret/other"]').waitFor();
    expect(await page.locator('tr[data-secret="secret/kbd"]').count()).toBe(0);

    await page.goto(`${h.url}/ui/sync/aws-sm/team-b`);
    await page.getByRole('alert').filter({ hasText: 'Permission denied' }).first().waitFor();
    expect(await page.locator('tr[data-secret]').count()).toBe(0);
    for (const name of ACTIONS) expect(await page.getByRole('button', { name, exact: true }).count(), name).toBe(0);

    // The token revoked while the page is open: the next refused poll asks lookup-self, whose
    // 403 ends the session, without a reload.
    await page.goto(`${h.url}/ui/sync/aws-sm/team-a`);
    await page.locator('tr[data-secret="secret/shared"]').waitFor();
    expect((await h.api('POST', 'auth/token/revoke', { token: teamAToken })).status).toBe(204);
    await page.getByText('Your session has ended').waitFor();
    expect(new URL(page.url()).pathname).toBe('/ui/sync/aws-sm/team-a');
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0);
  });

  it('keyboard only: sign in, open a destination, associate a secret', async () => {
    const { page } = await h.newPage();
    await page.goto(`${h.url}/ui/`);
    await page.waitForFunction(() => (globalThis as any).document.activeElement?.id === 'token');
    await page.keyboard.type('root');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await tabTo(page, 'the team-a link', (el) => el.tag === 'a' && el.text === 'team-a');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'team-a', level: 1 }).waitFor();
    await tabTo(page, 'Associate a secret', (el) => el.tag === 'button' && el.text === 'Associate a secret');
    await page.keyboard.press('Enter');
    await tabTo(page, 'the mount path field', (el) => el.label === 'Mount path');
    await page.keyboard.type('secret/');
    await page.keyboard.press('Tab');
    await page.keyboard.type('kbd');
    await page.keyboard.press('Enter');
    await page.locator('tr[data-secret="secret/kbd"] .badge', { hasText: 'SYNCED' }).waitFor({ timeout: 15_000 });
    expect(await page.locator('tr[data-secret="secret/kbd"] .badge').textContent()).toBe('SYNCED');
  });

  it('200 % zoom: the pages reflow without horizontal scrolling, controls stay reachable', async () => {
    // A 1280×860 window at 200 % is a 640×430 CSS viewport at a device scale of 2.
    const { page } = await h.newPage({ viewport: { width: 640, height: 430 }, deviceScaleFactor: 2 });
    await page.goto(`${h.url}/ui/`);
    await signInWithToken(page, 'root');
    for (const path of ['/ui/sync', '/ui/sync/aws-sm/team-a', '/ui/sync/new']) {
      await page.goto(`${h.url}${path}`);
      await page.locator('h1').first().waitFor();
      await page.waitForTimeout(300);
      const overflow = await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).document.documentElement.clientWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
      const signOut = await page.getByRole('button', { name: 'Sign out' }).boundingBox();
      expect(signOut && signOut.x + signOut.width <= 640, path).toBe(true);
    }
    await page.goto(`${h.url}/ui/sync/aws-sm/team-a`);
    await page.locator('tr[data-secret="secret/shared"]').waitFor();
    await h.screenshot(page, 'zoom-200');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it('an AWS outage (connections refused) shows on the overview, and clears when AWS answers again', async () => {
    const { page } = await h.newPage();
    await page.goto(`${h.url}/ui/`);
    await signInWithToken(page, 'root');
    const row = page.locator('tr[data-destination="team-a"]');
    await row.getByText('AWS: OK').waitFor();
    h.emu.injectFault({ kind: 'refuse', untilMs: h.emu.now() + 120_000 });
    expect((await h.api('POST', 'secret/data/shared', { data: { value: 'after-outage' } })).status).toBe(200);
    await row.getByText('AWS: Unavailable (outage)').waitFor({ timeout: 30_000 });
    h.emu.clearFaults();
    await row.getByText('AWS: OK').waitFor({ timeout: 30_000 });
    await page.getByRole('link', { name: 'team-a' }).click();
    await page.locator('tr[data-secret="secret/shared"] .badge', { hasText: 'SYNCED' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('section[aria-labelledby="summary-title"]').getByText('AWS: OK').count()).toBe(1);
  }, 120_000);

  it('banners: sync disabled, then the server sealed, each shown while it lasts', async () => {
    const { page } = await h.newPage();
    await page.goto(`${h.url}/ui/`);
    await signInWithToken(page, 'root');
    const disabled = page.getByRole('status').filter({ hasText: 'Secrets sync is disabled' });
    const sealed = page.getByRole('alert').filter({ hasText: 'Nothing is read, written or synced until it is unsealed' });
    expect(await disabled.count()).toBe(0);
    expect((await h.api('POST', 'sys/sync/config', { disabled: true })).status).toBe(200);
    await disabled.waitFor();
    expect((await h.api('POST', 'sys/sync/config', { disabled: false })).status).toBe(200);
    await disabled.waitFor({ state: 'detached' });

    expect((await h.api('POST', 'sys/seal')).status).toBe(204);
    await sealed.waitFor();
    expect((await h.api('POST', 'sys/unseal', { key: h.server.devUnsealKey })).status).toBe(200);
    await sealed.waitFor({ state: 'detached' });
    await page.locator('tr[data-destination="team-a"]').getByText('AWS: OK').waitFor();
  });

  it('a crafted link cannot turn the secret page onto another API path (dot segments are refused, not resolved)', async () => {
    // `/ui/secret?mount=secret&path=../../sys/policies/acl/default`: fetch resolves `..` in the
    // URL it is given, so an unchecked path sends the signed-in token's GET to sys/policies/….
    const { page } = await h.newPage();
    // This page's requests only (pages of earlier tests still poll).
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${h.url}/ui/`);
    await signInWithToken(page, 'root');
    for (const [mount, path] of [
      ['secret', '../../sys/policies/acl/default'],
      ['secret', 'shared/../../../sys/policies/acl/default'],
      ['..', 'sys/policies/acl/default'],
    ] as const) {
      const from = requests.length;
      // The page's other load (where the secret syncs) goes by query string: wait for it too.
      const syncs = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/sys/sync/associations/destinations');
      await page.goto(`${h.url}/ui/secret?${new URLSearchParams({ mount, path })}`);
      await page.getByRole('alert').filter({ hasText: /not a valid/ }).waitFor();
      await syncs;
      const apiPaths = requests.slice(from).map((u) => new URL(u).pathname).filter((p) => !p.startsWith('/ui/'));
      expect(apiPaths.length).toBeGreaterThan(0);
      // Only Ferry's API (a poll of the page before may still land), and never what the link aimed at.
      expect(apiPaths.filter((p) => !p.startsWith('/v1/') || p.includes('policies') || p.includes('/metadata/') || p.includes('/data/'))).toEqual([]);
    }
  });

  it('create form: an API message goes beside the field it is about, not a field named inside the value it quotes', async () => {
    // `invalid destination name "eu-region!"` is about the name: the quoted value says "region".
    const { page } = await h.newPage();
    await page.goto(`${h.url}/ui/`);
    await signInWithToken(page, 'root');
    await page.goto(`${h.url}/ui/sync/new`);
    const name = page.getByLabel('Name', { exact: true });
    await name.fill('eu-region!');
    await page.getByLabel('Region', { exact: true }).fill('us-east-1');
    await page.getByRole('button', { name: 'Create destination' }).click();
    await page.locator('#f-name-error').filter({ hasText: 'invalid destination name' }).waitFor();
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Region', { exact: true }).getAttribute('aria-invalid')).toBeNull();
    expect(await page.locator('#f-region-error').count()).toBe(0);
  });

  it('no console error, no server error, no request to a host other than Ferry', () => {
    expect(h.problems).toEqual([]);
    // 503 is Vault's answer while sealed (the banner test); anything else of 500 or more is a bug.
    expect(h.httpErrors.filter((e) => !/^(4\d\d|503) /.test(e))).toEqual([]);
    const origin = new URL(h.url).origin;
    expect(h.requests.filter((u) => new URL(u).origin !== origin)).toEqual([]);
  });
});
