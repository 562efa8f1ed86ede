import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from 'vitest';
import { expectAwsError, rawSecretsManager, REGION, smClient, useEmulator } from './helpers.js';

const { emu, clock, sm } = useEmulator();

async function create(name: string, extra: Partial<ConstructorParameters<typeof CreateSecretCommand>[0]> = {}) {
  clock.advance(1000);
  return sm.send(new CreateSecretCommand({ Name: name, SecretString: `value of ${name}`, ...extra }));
}
const names = (list: { Name?: string }[] | undefined) => (list ?? []).map((s) => s.Name);

describe('TagResource / UntagResource', () => {
  it('merges tags, overwriting values of existing keys', async () => {
    await create('t', { Tags: [{ Key: 'team', Value: 'orders' }] });
    await sm.send(new TagResourceCommand({ SecretId: 't', Tags: [{ Key: 'team', Value: 'billing' }, { Key: 'env', Value: 'prod' }] }));
    expect((await sm.send(new DescribeSecretCommand({ SecretId: 't' }))).Tags).toEqual([
      { Key: 'team', Value: 'billing' },
      { Key: 'env', Value: 'prod' },
    ]);
  });

  it('limits the merged set to 50 user tags and reserves aws:', async () => {
    await create('t50', { Tags: Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: '' })) });
    await sm.send(new TagResourceCommand({ SecretId: 't50', Tags: [{ Key: 'k0', Value: 'overwrite' }, { Key: 'k49', Value: '' }] }));
    await expectAwsError(sm.send(new TagResourceCommand({ SecretId: 't50', Tags: [{ Key: 'one-more', Value: '' }] })), 'InvalidParameterException');
    await expectAwsError(sm.send(new TagResourceCommand({ SecretId: 't50', Tags: [{ Key: 'AWS:x', Value: '' }] })), 'InvalidParameterException');
    await expectAwsError(sm.send(new UntagResourceCommand({ SecretId: 't50', TagKeys: ['aws:cloudformation:stack-name'] })), 'InvalidParameterException');
  });

  it('ignores absent keys on untag; after the last tag goes Tags is [], a never-tagged secret has no Tags', async () => {
    await create('tagged', { Tags: [{ Key: 'a', Value: '1' }] });
    await create('never');
    await sm.send(new UntagResourceCommand({ SecretId: 'tagged', TagKeys: ['a', 'not-there'] }));
    const tagged = (await rawSecretsManager(emu, 'secretsmanager.DescribeSecret', '{"SecretId":"tagged"}')).json();
    expect(tagged.Tags).toEqual([]);
    const never = (await rawSecretsManager(emu, 'secretsmanager.DescribeSecret', '{"SecretId":"never"}')).json();
    expect('Tags' in never).toBe(false);
  });
});

describe('SecretId forms and namespaces', () => {
  it('accepts a name, a full ARN and a partial ARN (without the random suffix)', async () => {
    const { ARN } = await create('svc/db');
    for (const id of ['svc/db', ARN!, ARN!.slice(0, -7)]) {
      expect((await sm.send(new GetSecretValueCommand({ SecretId: id }))).ARN).toBe(ARN);
    }
    await expectAwsError(sm.send(new GetSecretValueCommand({ SecretId: `${ARN!.slice(0, -6)}zzzzzz` })), 'ResourceNotFoundException');
  });

  it('denies another account\'s ARN (no resource policies): AccessDeniedException', async () => {
    await expectAwsError(
      sm.send(new GetSecretValueCommand({ SecretId: 'arn:aws:secretsmanager:eu-west-1:999999999999:secret:other-AbC123' })),
      'AccessDeniedException',
      /is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:eu-west-1:999999999999:secret:other-AbC123/,
    );
  });

  it('keeps regions apart: the region of the SigV4 scope selects the namespace', async () => {
    await create('regional');
    const us = smClient(emu, { region: 'us-east-1' });
    await expectAwsError(us.send(new GetSecretValueCommand({ SecretId: 'regional' })), 'ResourceNotFoundException');
    await us.send(new CreateSecretCommand({ Name: 'regional', SecretString: 'us' }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'regional' }))).SecretString).toBe('value of regional');
    expect(emu.listSecretNames('us-east-1')).toEqual(['regional']);
    us.destroy();
  });

  it('keeps accounts apart: a mapped access key acts in its own account', async () => {
    emu.mapAccessKey('AKIAOTHERACCOUNT0001', 'other-secret', '222233334444');
    const other = smClient(emu, { credentials: { accessKeyId: 'AKIAOTHERACCOUNT0001', secretAccessKey: 'other-secret' } });
    await create('shared-name');
    const theirs = await other.send(new CreateSecretCommand({ Name: 'shared-name', SecretString: 'theirs' }));
    expect(theirs.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:222233334444:secret:shared-name-/);
    expect(names((await other.send(new ListSecretsCommand({}))).SecretList)).toEqual(['shared-name']);
    expect(emu.getSecret(REGION, 'shared-name', '222233334444')!.versions[0].secretString).toBe('theirs');
    expect(emu.getSecret(REGION, 'shared-name')!.versions[0].secretString).toBe('value of shared-name');
    other.destroy();
  });
});

describe('ListSecrets', () => {
  beforeEach(async () => {
    await create('app/orders/db', { Description: 'Orders database login', Tags: [{ Key: 'team', Value: 'orders' }] });
    await create('app/billing/db', { Description: 'billing DB', Tags: [{ Key: 'team', Value: 'billing' }] });
    await create('App/upper', { Tags: [{ Key: 'env', Value: 'prod' }] });
    await create('misc');
  });

  const list = async (filters: { Key: any; Values: string[] }[]) =>
    names((await sm.send(new ListSecretsCommand({ Filters: filters }))).SecretList);

  it('filters by name prefix, case-sensitively', async () => {
    expect(await list([{ Key: 'name', Values: ['app/'] }])).toEqual(['app/orders/db', 'app/billing/db']);
    expect(await list([{ Key: 'name', Values: ['App'] }])).toEqual(['App/upper']);
  });

  it('filters by tag key and tag value prefixes; values OR, filters AND', async () => {
    expect(await list([{ Key: 'tag-key', Values: ['team'] }])).toEqual(['app/orders/db', 'app/billing/db']);
    expect(await list([{ Key: 'tag-value', Values: ['ord', 'prod'] }])).toEqual(['app/orders/db', 'App/upper']);
    expect(await list([{ Key: 'tag-key', Values: ['team'] }, { Key: 'tag-value', Values: ['bill'] }])).toEqual(['app/billing/db']);
  });

  it('filters by description prefix, case-insensitively', async () => {
    expect(await list([{ Key: 'description', Values: ['orders'] }])).toEqual(['app/orders/db']);
    expect(await list([{ Key: 'description', Values: ['BILLING'] }])).toEqual(['app/billing/db']);
  });

  it('negates a value with a leading !', async () => {
    expect(await list([{ Key: 'name', Values: ['!app/'] }])).toEqual(['App/upper', 'misc']);
  });

  it('searches every attribute with the all filter', async () => {
    expect(await list([{ Key: 'all', Values: ['billing'] }])).toEqual(['app/billing/db']);
    expect(await list([{ Key: 'all', Values: ['PROD'] }])).toEqual(['App/upper']);
  });

  it('rejects an unknown filter key with a model ValidationException', async () => {
    await expectAwsError(
      sm.send(new ListSecretsCommand({ Filters: [{ Key: 'colour' as any, Values: ['x'] }] })),
      'ValidationException',
      "1 validation error detected: Value 'colour' at 'filters.1.member.key' failed to satisfy constraint: Member must satisfy enum value set: [description, name, tag-key, tag-value, primary-region, owning-service, all]",
    );
  });

  it('names the version map SecretVersionsToStages in list entries', async () => {
    const raw = (await rawSecretsManager(emu, 'secretsmanager.ListSecrets', '{}')).json();
    for (const entry of raw.SecretList) {
      expect(entry.SecretVersionsToStages).toBeDefined();
      expect(entry.VersionIdsToStages).toBeUndefined();
      expect(entry.ReplicationStatus).toBeUndefined();
    }
  });

  it('paginates with an opaque NextToken until it is absent', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await sm.send(new ListSecretsCommand({ MaxResults: 3, NextToken: token }));
      seen.push(...names(page.SecretList).map(String));
      token = page.NextToken;
      pages += 1;
      if (token !== undefined) expect(token).not.toMatch(/^\d+$/);
    } while (token !== undefined);
    expect(pages).toBe(2);
    expect(seen).toEqual(['app/orders/db', 'app/billing/db', 'App/upper', 'misc']);
  });

  it('sorts by name descending on request', async () => {
    const out = await sm.send(new ListSecretsCommand({ SortBy: 'name', SortOrder: 'desc' }));
    expect(names(out.SecretList)).toEqual(['misc', 'app/orders/db', 'app/billing/db', 'App/upper']);
  });

  it('rejects a forged NextToken, or one reused with other filters, with InvalidNextTokenException', async () => {
    await expectAwsError(sm.send(new ListSecretsCommand({ NextToken: '3' })), 'InvalidNextTokenException');
    const first = await sm.send(new ListSecretsCommand({ MaxResults: 1 }));
    await expectAwsError(
      sm.send(new ListSecretsCommand({ MaxResults: 1, NextToken: first.NextToken, Filters: [{ Key: 'name', Values: ['app'] }] })),
      'InvalidNextTokenException',
    );
  });
});

describe('BatchGetSecretValue', () => {
  it('returns each AWSCURRENT value and reports per-secret failures in Errors with status 200', async () => {
    await create('a');
    await create('b');
    await create('gone');
    await sm.send(new DeleteSecretCommand({ SecretId: 'gone' }));
    await sm.send(new CreateSecretCommand({ Name: 'novalue' }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'b', SecretString: 'b2' }));
    const out = await sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['a', 'missing', 'b', 'gone', 'novalue'] }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.SecretValues!.map((v) => [v.Name, v.SecretString, v.VersionStages])).toEqual([
      ['a', 'value of a', ['AWSCURRENT']],
      ['b', 'b2', ['AWSCURRENT']],
    ]);
    expect(out.Errors).toEqual([
      { SecretId: 'missing', ErrorCode: 'ResourceNotFoundException', Message: "Secrets Manager can't find the specified secret." },
      {
        SecretId: 'gone',
        ErrorCode: 'InvalidRequestException',
        Message: "You can't perform this operation on the secret because it was marked for deletion.",
      },
      {
        SecretId: 'novalue',
        ErrorCode: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      },
    ]);
  });

  it('omits Errors when every secret was found', async () => {
    await create('ok');
    const raw = (await rawSecretsManager(emu, 'secretsmanager.BatchGetSecretValue', '{"SecretIdList":["ok"]}')).json();
    expect('Errors' in raw).toBe(false);
  });

  it('needs exactly one of SecretIdList and Filters, and MaxResults only with Filters', async () => {
    await expectAwsError(sm.send(new BatchGetSecretValueCommand({})), 'InvalidParameterException');
    await expectAwsError(
      sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['a'], Filters: [{ Key: 'name', Values: ['a'] }] })),
      'InvalidParameterException',
    );
    await expectAwsError(sm.send(new BatchGetSecretValueCommand({ SecretIdList: ['a'], MaxResults: 5 })), 'InvalidParameterException');
    await expectAwsError(
      sm.send(new BatchGetSecretValueCommand({ SecretIdList: Array.from({ length: 21 }, (_, i) => `s${i}`) })),
      'ValidationException',
    );
  });

  it('selects by Filters and paginates with MaxResults', async () => {
    for (const n of ['f/1', 'f/2', 'f/3', 'other']) await create(n);
    const first = await sm.send(new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['f/'] }], MaxResults: 2 }));
    expect(first.SecretValues!.map((v) => v.Name)).toEqual(['f/1', 'f/2']);
    const second = await sm.send(
      new BatchGetSecretValueCommand({ Filters: [{ Key: 'name', Values: ['f/'] }], MaxResults: 2, NextToken: first.NextToken }),
    );
    expect(second.SecretValues!.map((v) => v.Name)).toEqual(['f/3']);
    expect(second.NextToken).toBeUndefined();
  });
});
