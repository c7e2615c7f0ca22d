import * as grpc from "@grpc/grpc-js";

/** An error a handler throws to answer with a specific gRPC status. */
export class GrpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = "GrpcError";
  }
}

/** Maps anything a handler threw to the status grpc-js sends. */
export function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof GrpcError) return { code: err.code, details: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: grpc.status.INTERNAL, details: message };
}

/** True for the error a client sees after it cancelled its own call. */
export function isCancelled(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === grpc.status.CANCELLED;
}
