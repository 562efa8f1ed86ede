/** The request log a test can read (operation, secret, token, time, outcome). */

/** Claims of the web identity token an AssumeRoleWithWebIdentity call presented (unverified). */
export interface WebIdentityClaims {
  sub: string;
  aud: string | string[];
  iss: string;
  iat: number;
  exp: number;
  kid?: string;
}

export interface RequestLogEntry {
  /** Emulator clock, ms epoch. */
  time: number;
  service: 'secretsmanager' | 'sts';
  operation: string;
  accountId?: string;
  region?: string;
  secretId?: string;
  clientRequestToken?: string;
  accessKeyId?: string;
  /** HTTP status answered; 0 when the connection was reset instead. */
  status: number;
  /** Real milliseconds a `latency` fault held the call before it was handled (absent when none did). */
  delayedMs?: number;
  errorCode?: string;
  webIdentity?: WebIdentityClaims;
  requestId?: string;
  /** From `amz-sdk-request: attempt=N; max=M` and `amz-sdk-invocation-id` (constant across SDK retries). */
  sdkAttempt?: number;
  sdkInvocationId?: string;
}

/** What a service handler knows about a call, for its log entry. */
export type LogFields = Omit<RequestLogEntry, 'time' | 'status' | 'service' | 'requestId' | 'sdkAttempt' | 'sdkInvocationId'>;

/** A service's answer to one call. */
export interface ServiceReply {
  status: number;
  headers: Record<string, string>;
  body: string;
  log: LogFields;
}
