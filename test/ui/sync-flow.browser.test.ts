import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { waitUntil } from '../support/process.js';
import { CHROMIUM_MISSING, seriousA11yViolations, signInWithToken, startUiHarness, type UiHarness } from './browser.js';

/**
 * Issue 20's acceptance flow in a real browser (Debian's Chromium, playwright-core): sign in,
 * create a destination against the emulator, associate two secrets, watch them reach SYNCED
 * without a reload, see a change move updated_at, break the destination's AWS credentials and
 * see the error on the association and the summary, retry after fixing (an IAM deny, then a wrong
 * secret key set through the edit form), delete with purge.
 * The steps run in order on one page (one browser per file).
 */
if (CHROMIUM_MISSING) {
  console.warn(CHROMIUM_MISSING);
  it.skip(CHROMIUM_MISSING, () => {});
}

describe.skipIf(!!CHROMIUM_MISSING)('web UI: the secrets sync flow in Chromium', { timeout: 60_000 }, () => {
  let h: UiHarness;
  let page: Page;
  let userArn: string;
  const keys = { accessKeyId: 'AKIAUIFLOWUSER000001', secretAccessKey: 'ui-flow-secret-key' };
  const WRONG_SECRET_KEY = 'ui-flow-wrong-secret-key';
  const DEST = 'ui-dest';
  const row = (secret: string) => page.locator(`tr[data-secret="${secret}"]`);

  beforeAll(async () => {
    h = await startUiHarness();
    // An IAM user of the emulator: unrestricted until a policy says otherwise (how the test breaks it).
    userArn = h.emu.registerUser({ userName: 'ui-flow', accessKeys: [keys] }).arn;
    for (const [path, data] of [
      ['app/db', { password: 'db-password-1' }],
      ['web', { token: 'web-token-1' }],
    ] as const) {
      expect((await h.api('POST', `secret/data/${path}`, { data })).status).toBe(200);
    }
    ({ page } = await h.newPage());
  }, 120_000);

  afterAll(async () => {
    await h?.close();
  });

  it('sign-in: a token is checked, kept in session storage, and opens the sync overview', async () => {
    await page.goto(`${h.url}/ui`);
    expect(new URL(page.url()).pathname).toBe('/ui/');
    await page.getByRole('heading', { name: 'Sign in to Ferry' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByRole('textbox', { name: 'Token' }).fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'does not accept this token' }).waitFor();
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0);
    await signInWithToken(page, 'root');
    await page.getByRole('heading', { name: 'Secrets sync' }).waitFor();
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('ferry.token'))).toBe('root');
    expect(await page.evaluate(() => (globalThis as any).localStorage.length)).toBe(0);
    await page.getByText('No destinations yet.').waitFor();
  });

  it('create destination: API messages beside the fields, the OIDC issuer and sub for web identity, then a destination at the emulator', async () => {
    await page.getByRole('link', { name: 'New destination' }).click();
    await page.getByRole('heading', { name: 'New AWS Secrets Manager destination' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(DEST);

    // Web identity shows what to paste into AWS: the issuer and the sub of this destination.
    await page.getByLabel('Web identity (no AWS keys in Ferry)').check();
    await page.getByTestId('oidc-sub').filter({ hasText: `secrets-sync:root:aws-sm:${DEST}` }).waitFor();
    await page.getByTestId('oidc-issuer').filter({ hasText: `${h.url}/v1/identity/oidc/secrets-sync` }).waitFor();
    await h.screenshot(page, 'create-destination');
    expect(await seriousA11yViolations(page)).toEqual([]);

    // Static keys; a granularity the API refuses shows its message beside that field.
    await page.getByLabel('Static access keys').check();
    await page.getByLabel('Access key ID').fill(keys.accessKeyId);
    await page.getByLabel('Secret access key').fill(keys.secretAccessKey);
    await page.getByText('Naming, tags and endpoints').click();
    await page.getByLabel('Endpoint URL (optional)', { exact: true }).fill(h.emu.endpoint);
    await page.getByLabel('Secret name template (optional)').fill('vault/{{ .SecretPath');
    await page.getByRole('button', { name: 'Create destination' }).click();
    const templateError = page.locator('#f-secret_name_template-error');
    await templateError.waitFor();
    expect(await page.getByLabel('Secret name template (optional)').getAttribute('aria-invalid')).toBe('true');
    expect((await h.api('GET', `sys/sync/destinations/aws-sm/${DEST}`)).status).toBe(404);

    await page.getByLabel('Secret name template (optional)').fill('');
    await page.getByRole('button', { name: 'Create destination' }).click();
    await page.getByRole('heading', { name: DEST, level: 1 }).waitFor();
    // Connection details as the API returns them: masked.
    const connection = page.locator('section[aria-labelledby="conn-title"]');
    await connection.getByText('*****').first().waitFor();
    expect(await page.content()).not.toContain(keys.secretAccessKey);
    expect((await h.api('GET', `sys/sync/destinations/aws-sm/${DEST}`)).body.data.connection_details.endpoint_url).toBe(h.emu.endpoint);
  });

  it('associate two secrets (one picked from the listings, one typed); both reach SYNCED without a reload', async () => {
    await page.evaluate(() => ((globalThis as any).__sameDocument = true));
    await page.getByRole('button', { name: 'Associate a secret' }).click();
    // Pick from the listings: the mount, the folder, the secret.
    await page.getByRole('button', { name: 'Open folder app/' }).click();
    await page.getByRole('button', { name: 'db', exact: true }).click();
    expect(await page.getByLabel('Mount path').inputValue()).toBe('secret/');
    expect(await page.getByLabel('Secret path').inputValue()).toBe('app/db');
    await page.getByRole('button', { name: 'Associate', exact: true }).click();
    await row('secret/app/db').waitFor();

    await page.getByRole('button', { name: 'Associate a secret' }).click();
    await page.getByLabel('Mount path').fill('secret/');
    await page.getByLabel('Secret path').fill('web');
    await page.getByRole('button', { name: 'Associate', exact: true }).click();
    await row('secret/web').waitFor();

    for (const secret of ['secret/app/db', 'secret/web']) {
      await row(secret).locator('.badge', { hasText: 'SYNCED' }).waitFor({ timeout: 15_000 });
    }
    expect(await page.evaluate(() => (globalThis as any).__sameDocument)).toBe(true);
    const names = h.emu.listSecretNames('us-east-1');
    expect(names).toHaveLength(2);
    expect(await row('secret/web').locator('td.mono').textContent()).toBe(names.find((n) => n.endsWith('/web')));
    // The table sorts and filters.
    await page.getByRole('button', { name: 'Secret path' }).click();
    expect(await page.locator('tbody tr').first().getAttribute('data-secret')).toBe('secret/web');
    await page.getByLabel('Filter').fill('app/');
    await waitUntil('the filter to leave one row', async () => (await page.locator('tbody tr[data-secret]').count()) === 1);
    await page.getByLabel('Filter').fill('');
    expect(await seriousA11yViolations(page)).toEqual([]);
  });

  it("a change made through the API moves the association's updated_at on the page", async () => {
    const before = await row('secret/web').getByTestId('updated-at').textContent();
    expect((await h.api('POST', 'secret/data/web', { data: { token: 'web-token-2' } })).status).toBe(200);
    await waitUntil('updated_at to move', async () => (await row('secret/web').getByTestId('updated-at').textContent()) !== before, { timeoutMs: 15_000 });
    await row('secret/web').locator('.badge', { hasText: 'SYNCED' }).waitFor({ timeout: 15_000 });
    await h.screenshot(page, 'destination');
  });

  it('broken credentials: the error shows on the association and in the summary; retry after fixing brings SYNCED back', async () => {
    // AWS now refuses this key everything (an explicit deny): the next write fails finally.
    h.emu.putInlinePolicy(userArn, 'deny-all', { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'secretsmanager:*', Resource: '*' }] });
    expect((await h.api('POST', 'secret/data/web', { data: { token: 'web-token-3' } })).status).toBe(200);
    await row('secret/web').locator('.badge', { hasText: 'CLIENT_SIDE_ERROR' }).waitFor({ timeout: 20_000 });
    await row('secret/web').locator('.error-text', { hasText: 'AccessDenied' }).waitFor();
    await page.getByTestId('with-last-error').filter({ hasText: '1' }).waitFor();
    await page.locator('section[aria-labelledby="summary-title"] .badge', { hasText: 'CLIENT_SIDE_ERROR' }).waitFor();
    await h.screenshot(page, 'destination-error');
    // The overview says so too.
    await page.getByRole('link', { name: 'Secrets sync', exact: true }).first().click();
    const overviewRow = page.locator(`tr[data-destination="${DEST}"]`);
    await overviewRow.getByText('1 with an error').waitFor();
    await h.screenshot(page, 'overview');
    await overviewRow.getByRole('link', { name: DEST }).click();

    h.emu.deleteInlinePolicy(userArn, 'deny-all');
    await page.getByRole('button', { name: 'Retry failed (1)' }).click();
    await page.getByText('1 association re-queued').waitFor();
    await row('secret/web').locator('.badge', { hasText: 'SYNCED' }).waitFor({ timeout: 20_000 });
    await page.getByTestId('with-last-error').filter({ hasText: '0' }).waitFor();
    const name = h.emu.listSecretNames('us-east-1').find((n) => n.endsWith('/web'))!;
    expect(JSON.parse(h.emu.getSecret('us-east-1', name)!.versions.find((v) => v.stages.includes('AWSCURRENT'))!.secretString!)).toEqual({ token: 'web-token-3' });
  });

  it("really broken keys: a wrong secret key set through the edit form shows AWS's signature error on the row and in the summary; the fixed key syncs the new value", async () => {
    const summary = page.locator('section[aria-labelledby="summary-title"]');
    const current = (suffix: string) => {
      const name = h.emu.listSecretNames('us-east-1').find((n) => n.endsWith(suffix))!;
      return JSON.parse(h.emu.getSecret('us-east-1', name)!.versions.find((v) => v.stages.includes('AWSCURRENT'))!.secretString!);
    };
    await page.evaluate(() => ((globalThis as any).__sameDocument = true));
    // Break: the same access key ID with a secret AWS does not know, through the edit form (a merge patch of that field only).
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('New secret access key').fill(WRONG_SECRET_KEY);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: `Edit ${DEST}` }).waitFor({ state: 'detached' });
    await page.getByText('Saved: secret_access_key.').waitFor();
    const broken = (await h.api('GET', `sys/sync/destinations/aws-sm/${DEST}`)).body.data.connection_details;
    expect(broken.access_key_id).toBe('*****');
    expect(broken.endpoint_url).toBe(h.emu.endpoint);
    expect((await h.api('POST', 'secret/data/web', { data: { token: 'web-token-4' } })).status).toBe(200);

    // The emulator checks the signature with the key's real secret: AWS's InvalidSignatureException, final.
    await row('secret/web').locator('.badge', { hasText: 'CLIENT_SIDE_ERROR' }).waitFor({ timeout: 20_000 });
    await row('secret/web').locator('.error-text', { hasText: 'InvalidSignatureException' }).waitFor();
    await row('secret/web').locator('.error-text', { hasText: 'does not match the signature you provided' }).waitFor();
    // Only the changed secret fails: the other association's value is already in AWS.
    await page.getByTestId('with-last-error').filter({ hasText: /^1$/ }).waitFor({ timeout: 10_000 });
    await summary.locator('.badge', { hasText: 'CLIENT_SIDE_ERROR' }).waitFor();
    await row('secret/app/db').locator('.badge', { hasText: 'SYNCED' }).waitFor();
    expect(await page.evaluate(() => (globalThis as any).__sameDocument)).toBe(true);
    expect(current('/web')).toEqual({ token: 'web-token-3' });
    expect(await page.content()).not.toContain(WRONG_SECRET_KEY);

    // Fix: the right secret through the edit form; "Retry failed" for whatever is still failed.
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('New secret access key').fill(keys.secretAccessKey);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: `Edit ${DEST}` }).waitFor({ state: 'detached' });
    await page.getByText('Saved: secret_access_key.').waitFor();
    // The PATCH re-queues the failed associations itself; "Retry failed" is pressed while any stays failed.
    const retry = page.getByRole('button', { name: /^Retry failed/ });
    await waitUntil(
      'both associations to be SYNCED again',
      async () => {
        if (await retry.isVisible()) await retry.click({ timeout: 1_000 }).catch(() => {});
        for (const secret of ['secret/app/db', 'secret/web']) {
          if ((await row(secret).locator('.badge', { hasText: 'SYNCED' }).count()) !== 1) return false;
          if ((await row(secret).locator('.error-text').count()) !== 0) return false;
        }
        return true;
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    await page.getByTestId('with-last-error').filter({ hasText: /^0$/ }).waitFor({ timeout: 10_000 });
    expect(await summary.locator('.badge', { hasText: 'CLIENT_SIDE_ERROR' }).count()).toBe(0);
    expect(current('/web')).toEqual({ token: 'web-token-4' });
    expect(current('/db')).toEqual({ password: 'db-password-1' });
    expect(await page.evaluate(() => (globalThis as any).__sameDocument)).toBe(true);
  });

  it('edit sends a merge patch of the changed fields only', async () => {
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Custom tags (key=value, one per line)').fill('team=payments');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved: custom_tags.').waitFor();
    const d = (await h.api('GET', `sys/sync/destinations/aws-sm/${DEST}`)).body.data;
    expect(d.options.custom_tags).toEqual({ team: 'payments' });
    expect(d.connection_details.endpoint_url).toBe(h.emu.endpoint);
  });

  it('delete with purge after typing the name: the secrets leave AWS and the destination goes', async () => {
    await page.getByRole('button', { name: 'Delete…' }).click();
    const confirm = page.getByRole('button', { name: 'Delete destination' });
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel(`Type ${DEST} to confirm`).fill('ui-des');
    expect(await confirm.isDisabled()).toBe(true);
    await page.getByLabel(`Type ${DEST} to confirm`).fill(DEST);
    await confirm.click();
    await waitUntil('the destination to be deleted', async () => (await h.api('GET', `sys/sync/destinations/aws-sm/${DEST}`)).status === 404, { timeoutMs: 20_000 });
    expect(h.emu.listSecretNames('us-east-1')).toEqual([]);
    await page.getByText(/No destinations yet\.|There is no destination named/).waitFor({ timeout: 10_000 });
  });

  it('the whole flow: no console error or warning, no request to another host than Ferry, no value in a log line', () => {
    expect(h.problems).toEqual([]);
    // The only refusals: the bad token, the bad template, and Vault's 404s for "nothing there"
    // (no destination yet; the name checked free before the create; the destination page's
    // polls once the purge has deleted it).
    // Which of the page's polls meet the deleted destination before it switches to "no destination"
    // is timing, so those 404s are allowed rather than required; the two refusals the flow provoked
    // must be there, and nothing else may be.
    const allowed = new Set([
      '403 GET /v1/auth/token/lookup-self',
      `400 POST /v1/sys/sync/destinations/aws-sm/${DEST}`,
      '404 GET /v1/sys/sync/destinations',
      `404 GET /v1/sys/sync/destinations/aws-sm/${DEST}`,
      `404 GET /v1/sys/sync/destinations/aws-sm/${DEST}/associations`,
      `404 GET /v1/sys/sync/destinations/aws-sm/${DEST}/status`,
    ]);
    expect(h.httpErrors.filter((e) => !allowed.has(e))).toEqual([]);
    expect(h.httpErrors).toContain('403 GET /v1/auth/token/lookup-self');
    expect(h.httpErrors).toContain(`400 POST /v1/sys/sync/destinations/aws-sm/${DEST}`);
    const origin = new URL(h.url).origin;
    expect(h.requests.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    expect(h.requests.length).toBeGreaterThan(10);
    const logs = h.logs.join('');
    for (const value of ['db-password-1', 'web-token-1', 'web-token-2', 'web-token-3', 'web-token-4', keys.secretAccessKey, WRONG_SECRET_KEY]) expect(logs).not.toContain(value);
  });
});
