import {
  AssumeRoleWithWebIdentityCommand,
  ExpiredTokenException,
  IDPRejectedClaimException,
  InvalidIdentityTokenException,
  MalformedPolicyDocumentException,
} from '@aws-sdk/client-sts';
import { SignJWT } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { startAwsEmulator } from '../support/aws-emulator/index.js';
import { perTest } from '../support/fixtures.js';
import {
  ACCOUNT,
  claims,
  expectAwsError,
  makeKey,
  rawSts,
  REGION,
  ROLE_ARN,
  startIssuer,
  trustIssuer,
  type TestIssuer,
  useEmulator,
} from './helpers.js';

const { emu, clock, sts } = useEmulator();
const idp: TestIssuer = perTest('the OIDC issuer', () => startIssuer(), (issuer) => issuer.close());

const NO_KEY =
  "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

function assume(token: string, extra: { RoleArn?: string; DurationSeconds?: number; RoleSessionName?: string; Policy?: string; ProviderId?: string } = {}) {
  return sts.send(
    new AssumeRoleWithWebIdentityCommand({ RoleArn: ROLE_ARN, RoleSessionName: 'ferry-sync-7f3a', WebIdentityToken: token, ...extra }),
  );
}

describe('AssumeRoleWithWebIdentity: success', () => {
  it('issues ASIA session credentials with every response member AWS sends', async () => {
    trustIssuer(emu, idp);
    const out = await assume(await idp.sign(claims(idp, clock)), { DurationSeconds: 900 });
    expect(out.Credentials!.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(out.Credentials!.SecretAccessKey!.length).toBeGreaterThanOrEqual(40);
    expect(out.Credentials!.SessionToken!.length).toBeGreaterThan(100);
    expect(out.Credentials!.Expiration!.getTime()).toBe(Math.floor(clock() / 1000) * 1000 + 900_000);
    expect(out.SubjectFromWebIdentityToken).toBe('system:serviceaccount:ferry:sync');
    expect(out.Audience).toBe('sts.amazonaws.com');
    expect(out.Provider).toBe(`arn:aws:iam::${ACCOUNT}:oidc-provider/${idp.name}`);
    expect(out.AssumedRoleUser!.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/ferry-sync/ferry-sync-7f3a`);
    expect(out.AssumedRoleUser!.AssumedRoleId).toMatch(/^AROA[A-Z0-9]{17}:ferry-sync-7f3a$/);
  });

  it('accepts ES256-signed tokens', async () => {
    trustIssuer(emu, idp);
    const ec = idp.keys.find((k) => k.alg === 'ES256')!;
    const out = await assume(await idp.sign(claims(idp, clock), { key: ec }));
    expect(out.Credentials!.AccessKeyId).toMatch(/^ASIA/);
  });

  it('is unsigned on the wire: a plain form post without Authorization succeeds', async () => {
    trustIssuer(emu, idp);
    const res = await rawSts(emu, {
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: ROLE_ARN,
      RoleSessionName: 'raw',
      WebIdentityToken: await idp.sign(claims(idp, clock)),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml');
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.text).toMatch(/<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">\s*<AssumeRoleWithWebIdentityResult>/);
    expect(res.text).toMatch(/<Expiration>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/Expiration>/);
  });

  it('accepts a StringLike sub pattern and a list of subjects in the trust policy', async () => {
    trustIssuer(emu, idp, { sub: ['system:serviceaccount:other:*', 'system:serviceaccount:ferry:*'] });
    for (const sub of ['system:serviceaccount:ferry:anything', 'system:serviceaccount:other:x']) {
      const out = await assume(await idp.sign(claims(idp, clock, { sub })));
      expect(out.SubjectFromWebIdentityToken).toBe(sub);
      expect(out.Credentials!.AccessKeyId).toMatch(/^ASIA/);
    }
    // The patterns are what let those through: a subject matching neither is denied.
    await expectAwsError(
      assume(await idp.sign(claims(idp, clock, { sub: 'system:serviceaccount:elsewhere:ferry' }))),
      'AccessDenied',
      'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      403,
    );
  });

  it('refetches the JWKS when the token names an unknown kid (key rotation)', async () => {
    trustIssuer(emu, idp);
    await assume(await idp.sign(claims(idp, clock)));
    const rotated = await makeKey('rsa-2');
    idp.publish([rotated]);
    await assume(await idp.sign(claims(idp, clock), { key: rotated }));
    expect(idp.jwksFetches).toBe(2);
  });

  it('accepts a token up to 5 minutes after exp (clock-skew grace)', async () => {
    trustIssuer(emu, idp);
    const now = Math.floor(clock() / 1000);
    const out = await assume(await idp.sign(claims(idp, clock, { exp: now - 300 })), { DurationSeconds: 900 });
    expect(out.SubjectFromWebIdentityToken).toBe('system:serviceaccount:ferry:sync');
    // The session's lifetime comes from DurationSeconds, not from the token's past exp.
    expect(out.Credentials!.Expiration!.getTime()).toBe(now * 1000 + 900_000);
    // One second further is past the grace.
    await expectAwsError(assume(await idp.sign(claims(idp, clock, { exp: now - 301 }))), 'ExpiredTokenException', /^Token expired: /);
  });

  it('records the token claims in the request log', async () => {
    trustIssuer(emu, idp);
    const c = claims(idp, clock);
    await assume(await idp.sign(c));
    const entry = emu.requestLog().find((e) => e.operation === 'AssumeRoleWithWebIdentity')!;
    expect(entry).toMatchObject({ service: 'sts', status: 200, accountId: ACCOUNT });
    expect(entry.webIdentity).toEqual({ sub: c.sub, aud: c.aud, iss: c.iss, iat: c.iat, exp: c.exp, kid: 'rsa-1' });
  });
});

describe('AssumeRoleWithWebIdentity: token validation failures', () => {
  beforeEach(() => {
    trustIssuer(emu, idp);
  });

  it('rejects a token with the wrong audience: InvalidIdentityToken "Incorrect token audience"', async () => {
    const err = await expectAwsError(
      assume(await idp.sign(claims(idp, clock, { aud: 'someone-else' }))),
      'InvalidIdentityTokenException',
      'Incorrect token audience',
    );
    expect(err).toBeInstanceOf(InvalidIdentityTokenException);
  });

  it('rejects a token signed with a key the issuer does not publish (same kid)', async () => {
    const impostor = await makeKey('rsa-1');
    await expectAwsError(assume(await idp.sign(claims(idp, clock), { key: impostor })), 'InvalidIdentityTokenException');
  });

  it('rejects a token whose kid is not in the JWKS even after refetching', async () => {
    const unknown = await makeKey('not-published');
    await expectAwsError(assume(await idp.sign(claims(idp, clock), { key: unknown })), 'InvalidIdentityTokenException', NO_KEY);
  });

  it('rejects an expired token with ExpiredTokenException and AWS\'s message', async () => {
    const now = Math.floor(clock() / 1000);
    const exp = now - 301;
    const err = await expectAwsError(
      assume(await idp.sign(claims(idp, clock, { iat: now - 4000, nbf: now - 4000, exp }))),
      'ExpiredTokenException',
      `Token expired: current date/time ${now} must be before the expiration date/time${exp}`,
    );
    expect(err).toBeInstanceOf(ExpiredTokenException);
  });

  it('judges exp against the injectable clock', async () => {
    const token = await idp.sign(claims(idp, clock));
    clock.advance(3600_000 + 301_000);
    await expectAwsError(assume(token), 'ExpiredTokenException', /^Token expired: /);
  });

  it('rejects a token issued too long ago with ExpiredTokenException "Token too old"', async () => {
    const now = Math.floor(clock() / 1000);
    await expectAwsError(
      assume(await idp.sign(claims(idp, clock, { iat: now - 2 * 86_400, exp: now + 600 }))),
      'ExpiredTokenException',
      /^Token too old: /,
    );
  });

  it('rejects a token used before nbf', async () => {
    const now = Math.floor(clock() / 1000);
    await expectAwsError(assume(await idp.sign(claims(idp, clock, { nbf: now + 3600 }))), 'InvalidIdentityTokenException');
  });

  it('rejects time claims that are not integers', async () => {
    await expectAwsError(
      assume(await idp.sign(claims(idp, clock, { exp: Math.floor(clock() / 1000) + 600.5 }))),
      'InvalidIdentityTokenException',
    );
    await expectAwsError(
      assume(await idp.sign(claims(idp, clock, { exp: String(Math.floor(clock() / 1000) + 600) as unknown as number }))),
      'InvalidIdentityTokenException',
    );
  });

  it('rejects an issuer with no registered provider: "No OpenIDConnect provider found in your account for <iss>"', async () => {
    const other = await startIssuer();
    try {
      await expectAwsError(
        assume(await other.sign(claims(other, clock))),
        'InvalidIdentityTokenException',
        `No OpenIDConnect provider found in your account for ${other.issuer}`,
      );
    } finally {
      await other.close();
    }
  });

  it('compares the issuer byte for byte (a trailing slash is another issuer)', async () => {
    await expectAwsError(
      assume(await idp.sign(claims(idp, clock, { iss: `${idp.issuer}/` }))),
      'InvalidIdentityTokenException',
      `No OpenIDConnect provider found in your account for ${idp.issuer}/`,
    );
  });

  it('looks for the provider in the role\'s account only', async () => {
    emu.registerRole({ accountId: '222233334444', roleName: 'elsewhere', trust: { provider: idp.name } });
    await expectAwsError(
      assume(await idp.sign(claims(idp, clock)), { RoleArn: 'arn:aws:iam::222233334444:role/elsewhere' }),
      'InvalidIdentityTokenException',
      /^No OpenIDConnect provider found in your account for /,
    );
  });

  it('rejects a string that is not a JWT', async () => {
    await expectAwsError(
      assume('not-a-jwt-at-all'),
      'InvalidIdentityTokenException',
      'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
    );
  });

  it('rejects alg none and HS256', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims(idp, clock))}.`;
    await expectAwsError(assume(unsigned), 'InvalidIdentityTokenException');
    const hs = await new SignJWT(claims(idp, clock)).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(new Uint8Array(32));
    await expectAwsError(assume(hs), 'InvalidIdentityTokenException');
  });

  it('answers "Couldn\'t retrieve verification key" when the issuer cannot be reached', async () => {
    await idp.close();
    await expectAwsError(assume(await idp.sign(claims(idp, clock))), 'InvalidIdentityTokenException', NO_KEY);
  });

  it('requires the discovery document\'s issuer to be the token\'s issuer', async () => {
    idp.discoveryIssuer = 'http://impostor.example';
    await expectAwsError(assume(await idp.sign(claims(idp, clock))), 'InvalidIdentityTokenException', NO_KEY);
  });

  it('answers IDPRejectedClaim (403) for an OAuth 2.0 ProviderId token it cannot check', async () => {
    const err = await expectAwsError(
      assume('opaque-access-token', { ProviderId: 'graph.facebook.com' }),
      'IDPRejectedClaimException',
      undefined,
      403,
    );
    expect(err).toBeInstanceOf(IDPRejectedClaimException);
  });
});

describe('AssumeRoleWithWebIdentity: trust policy and parameters', () => {
  it('denies a sub the trust policy rejects with 403 AccessDenied', async () => {
    trustIssuer(emu, idp, { sub: 'system:serviceaccount:ferry:sync' });
    const err = await expectAwsError(
      assume(await idp.sign(claims(idp, clock, { sub: 'system:serviceaccount:evil:pod' }))),
      'AccessDenied',
      'Not authorized to perform sts:AssumeRoleWithWebIdentity',
      403,
    );
    expect(err.$fault).toBe('client');
  });

  it('denies an aud accepted by the provider but not by the trust condition', async () => {
    emu.registerOidcProvider({ url: idp.issuer, clientIds: ['sts.amazonaws.com', 'other-client'] });
    emu.registerRole({ roleName: 'ferry-sync', trust: { provider: idp.name, aud: 'sts.amazonaws.com' } });
    await expectAwsError(assume(await idp.sign(claims(idp, clock, { aud: 'other-client' }))), 'AccessDenied', undefined, 403);
  });

  it('denies an unknown role, and a role trusting another provider', async () => {
    trustIssuer(emu, idp);
    const token = await idp.sign(claims(idp, clock));
    await expectAwsError(assume(token, { RoleArn: `arn:aws:iam::${ACCOUNT}:role/nobody` }), 'AccessDenied', undefined, 403);
    emu.registerRole({ roleName: 'other-idp', trust: { provider: 'accounts.example.com' } });
    await expectAwsError(assume(token, { RoleArn: `arn:aws:iam::${ACCOUNT}:role/other-idp` }), 'AccessDenied', undefined, 403);
  });

  it('limits DurationSeconds to 900–43200 and to the role\'s MaxSessionDuration', async () => {
    trustIssuer(emu, idp);
    const token = await idp.sign(claims(idp, clock));
    await expectAwsError(
      assume(token, { DurationSeconds: 899 }),
      'ValidationError',
      "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    );
    await expectAwsError(
      assume(token, { DurationSeconds: 3601 }),
      'ValidationError',
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
    emu.registerRole({ roleName: 'long', trust: { provider: idp.name }, maxSessionDuration: 7200 });
    await assume(token, { DurationSeconds: 7200, RoleArn: `arn:aws:iam::${ACCOUNT}:role/long` });
  });

  it('validates RoleSessionName and RoleArn with AWS\'s messages', async () => {
    trustIssuer(emu, idp);
    const token = await idp.sign(claims(idp, clock));
    await expectAwsError(
      assume(token, { RoleSessionName: 'bad name!' }),
      'ValidationError',
      "1 validation error detected: Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
    await expectAwsError(assume(token, { RoleArn: 'arn:aws:iam::role/not-an-arn-at-all' }), 'ValidationError', 'arn:aws:iam::role/not-an-arn-at-all is invalid');
  });

  it('rejects a session policy that is not JSON with MalformedPolicyDocument', async () => {
    trustIssuer(emu, idp);
    const err = await expectAwsError(assume(await idp.sign(claims(idp, clock)), { Policy: 'not json' }), 'MalformedPolicyDocumentException');
    expect(err).toBeInstanceOf(MalformedPolicyDocumentException);
  });
});

describe('STS wire format', () => {
  it('answers errors as <ErrorResponse><Error>… XML with Type Sender and a RequestId', async () => {
    trustIssuer(emu, idp);
    const res = await rawSts(emu, {
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: ROLE_ARN,
      RoleSessionName: 'raw',
      WebIdentityToken: await idp.sign(claims(idp, clock, { aud: 'nope' })),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('text/xml');
    expect(res.text).toMatch(
      /^<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">\s*<Error>\s*<Type>Sender<\/Type>\s*<Code>InvalidIdentityToken<\/Code>\s*<Message>Incorrect token audience<\/Message>\s*<\/Error>\s*<RequestId>[0-9a-f-]{36}<\/RequestId>\s*<\/ErrorResponse>\s*$/,
    );
    expect(res.text).not.toContain('<Errors>');
  });

  it('accepts GET with the same parameters in the query string', async () => {
    trustIssuer(emu, idp);
    const query = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: ROLE_ARN,
      RoleSessionName: 'via-get',
      WebIdentityToken: await idp.sign(claims(idp, clock)),
    });
    const res = await fetch(`${emu.endpoint}/?${query.toString()}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<Arn>arn:aws:sts::123456789012:assumed-role/ferry-sync/via-get</Arn>');
  });

  it('answers an unknown Action with InvalidAction', async () => {
    const res = await rawSts(emu, { Action: 'GetSessionToken', Version: '2011-06-15' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('<Code>InvalidAction</Code>');
  });

  it('lists every missing required parameter in one ValidationError', async () => {
    const res = await rawSts(emu, { Action: 'AssumeRoleWithWebIdentity', Version: '2011-06-15', RoleArn: ROLE_ARN });
    expect(res.status).toBe(400);
    expect(res.text).toContain(
      "<Message>2 validation errors detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null; Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null</Message>",
    );
  });
});

describe('requireHttpsIssuer', () => {
  it('refuses to register an http:// provider when https is required', async () => {
    const strict = await startAwsEmulator({ requireHttpsIssuer: true });
    try {
      expect(() => strict.registerOidcProvider({ url: idp.issuer, clientIds: ['sts.amazonaws.com'] })).toThrow(/https/);
      strict.registerOidcProvider({ url: 'https://idp.example.test', clientIds: ['sts.amazonaws.com'] });
    } finally {
      await strict.close();
    }
    expect(REGION).toBe('eu-west-1');
  });
});
