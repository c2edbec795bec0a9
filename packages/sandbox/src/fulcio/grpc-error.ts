/**
 * Fulcio's error surface: grpc-gateway renders a gRPC status as
 * `{"code": <grpc code>, "message": "...", "details": []}` with the HTTP status
 * of that code (grpc-gateway runtime/errors.go HTTPStatusFromCode).
 */
import { GitsealError } from '../gitseal/errors.js';

export const GrpcCode = {
  InvalidArgument: 3,
  NotFound: 5,
  PermissionDenied: 7,
  Unimplemented: 12,
  Internal: 13,
  Unauthenticated: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

const HTTP_STATUS: Record<GrpcCode, number> = {
  [GrpcCode.InvalidArgument]: 400,
  [GrpcCode.NotFound]: 404,
  [GrpcCode.PermissionDenied]: 403,
  [GrpcCode.Unimplemented]: 501,
  [GrpcCode.Internal]: 500,
  [GrpcCode.Unauthenticated]: 401,
};

/** Client-facing messages of real Fulcio (pkg/server/error.go). */
export const FulcioMessage = {
  invalidIdentityToken: 'There was an error processing the identity token',
  invalidSignature: 'The signature supplied in the request could not be verified',
  invalidPublicKey: 'The public key supplied in the request could not be parsed',
  insecurePublicKey: 'The public key supplied in the request is insecure',
  invalidCSR: 'The certificate signing request could not be parsed',
  failedToEnterCertInCTL: 'Error entering certificate in CTL',
  genericCAError: 'error communicating with CA backend',
} as const;

/** An expected Fulcio failure: Fulcio's message, then a short reason after a colon. */
export class FulcioServiceError extends GitsealError {
  readonly grpcCode: GrpcCode;
  constructor(grpcCode: GrpcCode, message: string, reason?: string) {
    super('FULCIO', reason ? `${message}: ${reason}` : message);
    this.grpcCode = grpcCode;
  }

  get httpStatus(): number {
    return HTTP_STATUS[this.grpcCode];
  }

  toJSON(): { code: number; message: string; details: unknown[] } {
    return { code: this.grpcCode, message: this.message, details: [] };
  }
}

export function httpStatusOf(code: GrpcCode): number {
  return HTTP_STATUS[code];
}
