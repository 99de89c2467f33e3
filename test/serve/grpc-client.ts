/** A real @grpc/grpc-js client of the serving core, its stubs built from the vendored protos. */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ROOT } from "../helpers/cli.js";

export type GrpcClient = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
export type GrpcResult<T> = { ok: true; value: T } | { ok: false; code: number; details: string };

/** A client of inference.GRPCInferenceService as `file` (in proto/) declares it. */
export function grpcClient(address: string, file = "open_inference_grpc.proto"): GrpcClient {
  const definition = protoLoader.loadSync(join(ROOT, "proto", file), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
  };
  return new pkg.inference.GRPCInferenceService(
    address,
    grpc.credentials.createInsecure(),
  ) as unknown as GrpcClient;
}

/** One unary call; resolves with the response or the gRPC error (code and details). */
export function grpcCall<T = Record<string, unknown>>(
  client: GrpcClient,
  method: string,
  request: unknown,
  metadata: Record<string, string> = {},
): Promise<GrpcResult<T>> {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    (
      client[method] as (
        r: unknown,
        m: grpc.Metadata,
        cb: (e: grpc.ServiceError | null, v: T) => void,
      ) => void
    )(request, md, (error, value) =>
      resolve(error ? { ok: false, code: error.code, details: error.details } : { ok: true, value }),
    );
  });
}

/** The response of a call that must succeed (a failure throws with its code and details). */
export async function grpcOk<T = Record<string, unknown>>(result: Promise<GrpcResult<T>>): Promise<T> {
  const r = await result;
  if (!r.ok) throw new Error(`gRPC ${grpc.status[r.code]}: ${r.details}`);
  return r.value;
}
