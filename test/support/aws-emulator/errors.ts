/**
 * An error the emulator answers with. The protocol layers render it: Secrets Manager as
 * awsJson1_1 (`{"__type","Message"}` plus `x-amzn-ErrorType`), STS as awsQuery XML.
 * `code` is the exact wire code; `status` the HTTP status AWS uses for it.
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/** Shorthand for the many 400s. */
export function awsError(code: string, message: string, status = 400): AwsError {
  return new AwsError(code, message, status);
}
