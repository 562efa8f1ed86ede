import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { DeliveryError } from '../port.js';
import type { DestinationAgents } from './connections.js';
import { networkPolicyError, sanitiseProviderMessage } from './errors.js';
import { MAX_IDENTITY_TOKEN_TTL, type Destination } from '../model.js';

/** The credential shape the AWS SDK v3 clients accept. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** Mints the identity tokens for workload identity federation (the OIDC issuer). */
export interface WebIdentitySigner {
  mint(input: {
    destinationType: string;
    destinationName: string;
    audience: string;
    ttlSeconds?: number;
    keyName?: string;
  }): Promise<{ token: string; expiresAt: number; kid: string }>;
}

/** Where the AWS clients of a destination report each call and credential refresh (metrics). */
export interface AwsCallObserver {
  /** One call: its operation (`UpdateSecret`), its outcome (`ok` or the error code) and how the error was classified. */
  call(destination: Destination, operation: string, code: string, kind?: DeliveryError['kind']): void;
  /** One refresh of temporary credentials through STS. */
  stsRefresh(destination: Destination, result: 'success' | 'failed'): void;
}

/**
 * Reports every call a client sends to `observer`, from the SDK's middleware stack, so that no
 * call site can forget it: the operation's name, and `ok`, `NetworkError` (no answer) or AWS's
 * error code.
 */
export function observeCalls(
  client: { middlewareStack: { add: (mw: any, opts: { step: 'initialize'; name: string }) => void } },
  destination: Destination,
  observer: AwsCallObserver | undefined,
  classify: (err: unknown, operation: string) => DeliveryError,
): void {
  if (!observer) return;
  client.middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      try {
        const out = await next(args);
        observer.call(destination, operation, 'ok');
        return out;
      } catch (err) {
        const e = classify(err, operation);
        const answered = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined;
        observer.call(destination, operation, e.kind === 'unavailable' && !answered && !/Timeout|Abort/.test(e.code) ? 'NetworkError' : e.code, e.kind);
        throw err;
      }
    },
    { step: 'initialize', name: 'ferryCallObserver' },
  );
}

export interface CredentialDeps {
  signer?: WebIdentitySigner;
  observer?: AwsCallObserver;
  clock: () => number;
  /** STS session length; independent of the identity token's own lifetime, never under STS's 900 s floor. */
  sessionSeconds?: number;
}

/** How a destination authenticates, decided once from its fields. */
export type AuthMode = 'static' | 'assume-role' | 'web-identity' | 'default-chain' | 'default-chain-assume-role';

export function authModeOf(d: Destination): AuthMode {
  const c = d.connection;
  if (c.identity_token_audience && c.role_arn) return 'web-identity';
  if (c.access_key_id && c.role_arn) return 'assume-role';
  if (c.access_key_id) return 'static';
  return c.role_arn ? 'default-chain-assume-role' : 'default-chain';
}

const STS_FINAL = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidIdentityToken',
  'IDPRejectedClaim',
  'InvalidParameterValue',
  'ValidationError',
  'MalformedPolicyDocument',
  'PackedPolicyTooLarge',
  'RegionDisabledException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);

function stsError(err: unknown, action: string): DeliveryError {
  const refused = networkPolicyError(err, `STS ${action}`);
  if (refused) return refused;
  const e = (err ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const name = e.name ?? 'Error';
  const text = `STS ${action}: ${name}: ${sanitiseProviderMessage(e.message)}`;
  if (name === 'Throttling' || name === 'ThrottlingException') return new DeliveryError('throttled', 'PENDING', name, text);
  if (name === 'IDPCommunicationError' || (e.$metadata?.httpStatusCode ?? 0) >= 500 || e.code) {
    return new DeliveryError('unavailable', 'EXTERNAL_SERVICE_ERROR', name, text);
  }
  if (name === 'ExpiredTokenException') return new DeliveryError('transient', 'CLIENT_SIDE_ERROR', name, text);
  if (STS_FINAL.has(name) || (e.$metadata?.httpStatusCode ?? 0) >= 400) return new DeliveryError('final', 'CLIENT_SIDE_ERROR', name, text);
  return new DeliveryError('transient', 'EXTERNAL_SERVICE_ERROR', name, text);
}

/**
 * Temporary credentials cached until shortly before they expire. Refresh happens ahead of
 * expiry (at 80% of their lifetime, at most 5 minutes early), and concurrent deliveries
 * share one refresh rather than each calling STS.
 */
class RefreshingCredentials {
  private current: AwsCredentialIdentity | undefined;
  private refreshAt = 0;
  private inflight: Promise<AwsCredentialIdentity> | undefined;

  constructor(
    private readonly fetch: () => Promise<AwsCredentialIdentity>,
    private readonly clock: () => number,
  ) {}

  provider: AwsCredentialIdentityProvider = async () => {
    if (this.current && this.clock() < this.refreshAt) return this.forSdk(this.current);
    this.inflight ??= this.fetch()
      .then((creds) => {
        const issued = this.clock();
        const expires = creds.expiration?.getTime() ?? issued + 3600_000;
        const lifetime = Math.max(0, expires - issued);
        this.refreshAt = expires - Math.min(5 * 60_000, lifetime * 0.2);
        this.current = creds;
        return creds;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.forSdk(await this.inflight);
  };

  /**
   * The SDK memoises credentials and judges their expiry by the machine clock. Handing it an
   * expiration of "now" makes it ask this provider before every call, so the refresh decision
   * (and the injectable clock it uses) stays here, in one place.
   */
  private forSdk(creds: AwsCredentialIdentity): AwsCredentialIdentity {
    return { ...creds, expiration: new Date(Date.now()) };
  }

  /** Forces the next call to fetch new credentials (after an ExpiredToken answer). */
  invalidate(): void {
    this.refreshAt = 0;
  }
}

export interface DestinationCredentials {
  /** Undefined means the SDK's default credential chain. */
  provider: AwsCredentialIdentityProvider | undefined;
  mode: AuthMode;
  invalidate(): void;
}

/** Decides, once per destination incarnation and generation, where its Secrets Manager credentials come from. */
export function credentialsFor(d: Destination, deps: CredentialDeps, agents?: Pick<DestinationAgents, 'httpAgent' | 'httpsAgent'>): DestinationCredentials {
  const c = d.connection;
  const mode = authModeOf(d);
  const sessionSeconds = Math.max(900, deps.sessionSeconds ?? 3600);
  const staticCreds: AwsCredentialIdentity | undefined = c.access_key_id
    ? { accessKeyId: c.access_key_id, secretAccessKey: c.secret_access_key }
    : undefined;
  if (mode === 'static') return { provider: async () => staticCreds!, mode, invalidate: () => {} };
  if (mode === 'default-chain') return { provider: undefined, mode, invalidate: () => {} };

  const sts = new STSClient({
    region: c.region,
    ...(c.sts_endpoint_url || c.endpoint_url ? { endpoint: c.sts_endpoint_url || c.endpoint_url } : {}),
    ...(staticCreds ? { credentials: staticCreds } : {}),
    // The destination's sockets, checked by its strict-networking policy (`connections.ts`).
    ...(agents ? { requestHandler: { httpAgent: agents.httpAgent, httpsAgent: agents.httpsAgent } } : {}),
    maxAttempts: 1,
  });
  observeCalls(sts, d, deps.observer, (err, operation) => (err instanceof DeliveryError ? err : stsError(err, operation)));
  const sessionName = `ferry-sync-${d.name}`.slice(0, 64);
  const toIdentity = (creds: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date } | undefined) => {
    if (!creds?.AccessKeyId || !creds.SecretAccessKey) {
      throw new DeliveryError('transient', 'EXTERNAL_SERVICE_ERROR', 'NoCredentials', 'STS returned no credentials');
    }
    return {
      accessKeyId: creds.AccessKeyId,
      secretAccessKey: creds.SecretAccessKey,
      sessionToken: creds.SessionToken,
      expiration: creds.Expiration,
    };
  };

  let fetch: () => Promise<AwsCredentialIdentity>;
  if (mode === 'web-identity') {
    const signer = deps.signer;
    fetch = async () => {
      if (!signer) throw new DeliveryError('final', 'INTERNAL_VAULT_ERROR', 'NoIssuer', 'the identity token issuer is not available');
      const { token } = await signer.mint({
        destinationType: d.type,
        destinationName: d.name,
        audience: c.identity_token_audience,
        // A destination stored before the 24h limit keeps its setting, but its tokens are capped too.
        ttlSeconds: Math.min(c.identity_token_ttl || 3600, MAX_IDENTITY_TOKEN_TTL),
        keyName: c.identity_token_key || undefined,
      });
      try {
        const out = await sts.send(
          new AssumeRoleWithWebIdentityCommand({
            RoleArn: c.role_arn,
            RoleSessionName: sessionName,
            WebIdentityToken: token,
            DurationSeconds: sessionSeconds,
          }),
        );
        return toIdentity(out.Credentials);
      } catch (err) {
        throw err instanceof DeliveryError ? err : stsError(err, 'AssumeRoleWithWebIdentity');
      }
    };
  } else {
    fetch = async () => {
      try {
        const out = await sts.send(
          new AssumeRoleCommand({
            RoleArn: c.role_arn,
            RoleSessionName: sessionName,
            DurationSeconds: sessionSeconds,
            ...(c.external_id ? { ExternalId: c.external_id } : {}),
          }),
        );
        return toIdentity(out.Credentials);
      } catch (err) {
        throw err instanceof DeliveryError ? err : stsError(err, 'AssumeRole');
      }
    };
  }
  const fetchOnce = fetch;
  fetch = async () => {
    try {
      const creds = await fetchOnce();
      deps.observer?.stsRefresh(d, 'success');
      return creds;
    } catch (err) {
      deps.observer?.stsRefresh(d, 'failed');
      throw err;
    }
  };
  const refreshing = new RefreshingCredentials(fetch, deps.clock);
  return { provider: refreshing.provider, mode, invalidate: () => refreshing.invalidate() };
}
