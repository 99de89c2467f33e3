/**
 * The gRPC front end: `inference.GRPCInferenceService` as the Open Inference Protocol defines it
 * (proto/open_inference_grpc.proto, vendored verbatim) plus the repository RPCs KServe's
 * grpc_predict_v2.proto adds to the same service. Thin over the same repository, router, pipeline
 * and metrics as the HTTP front end; errors take their status from errorResponse and map to a code.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { packagePath } from "../util/package.js";
import type { RowSlice } from "./batcher.js";
import { rawBytes, rawInputData } from "./binary-tensors.js";
import { errorResponse } from "./errors.js";
import { checkBearer, measured, modelMetadata, serverMetadata, serverReady } from "./front-end.js";
import type { Observability } from "./observability.js";
import { outputNames } from "./pipeline.js";
import { checkModelName, type ModelRepository } from "./repository.js";
import type { Router } from "./router.js";
import { BadRequest, OIP_TO_ORT, ORT_TO_OIP, toJsonArray } from "./tensors.js";

export interface GrpcOptions {
  repository: ModelRepository;
  router: Router;
  observability: Observability;
  log: (line: string) => void;
  host?: string;
  port: number;
  adminToken?: string;
  token?: string;
}

const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

type ServiceConstructor = grpc.ServiceClientConstructor;

let protos: { oip: ServiceConstructor; kserve: ServiceConstructor } | undefined;

/** The service definitions from the vendored protos (read and parsed once per process). */
export function inferenceProtos(): { oip: ServiceConstructor; kserve: ServiceConstructor } {
  const load = (file: string) =>
    grpc.loadPackageDefinition(
      protoLoader.loadSync(packagePath("proto", file), LOADER_OPTIONS),
    ) as unknown as {
      inference: { GRPCInferenceService: ServiceConstructor };
    };
  protos ??= {
    oip: load("open_inference_grpc.proto").inference.GRPCInferenceService,
    kserve: load("grpc_predict_v2.proto").inference.GRPCInferenceService,
  };
  return protos;
}

/** HTTP status -> gRPC code, for the one error mapping (errorResponse). */
const CODES: Record<number, grpc.status> = {
  400: grpc.status.INVALID_ARGUMENT,
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  404: grpc.status.NOT_FOUND,
  405: grpc.status.UNIMPLEMENTED,
  409: grpc.status.FAILED_PRECONDITION,
  413: grpc.status.RESOURCE_EXHAUSTED,
  429: grpc.status.RESOURCE_EXHAUSTED,
  503: grpc.status.UNAVAILABLE,
  504: grpc.status.DEADLINE_EXCEEDED,
};

export function grpcCode(status: number): grpc.status {
  return CODES[status] ?? (status >= 500 ? grpc.status.INTERNAL : grpc.status.INVALID_ARGUMENT);
}

/** The InferTensorContents field that carries each datatype's values. */
const CONTENTS_FIELD: Record<string, string> = {
  BOOL: "bool_contents",
  INT8: "int_contents",
  INT16: "int_contents",
  INT32: "int_contents",
  INT64: "int64_contents",
  UINT8: "uint_contents",
  UINT16: "uint_contents",
  UINT32: "uint_contents",
  UINT64: "uint64_contents",
  FP32: "fp32_contents",
  FP64: "fp64_contents",
  BYTES: "bytes_contents",
};

interface InferInputTensor {
  name: string;
  datatype: string;
  shape: string[];
  contents?: Record<string, unknown[]> | null;
}

interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  inputs: InferInputTensor[];
  outputs: Array<{ name: string }>;
  raw_input_contents: Buffer[];
}

/** A request tensor as the pipeline decodes it (data: plain values, or a typed array for raw bytes). */
function requestTensor(input: InferInputTensor, raw: Buffer | undefined): Record<string, unknown> {
  const shape = input.shape.map(Number);
  if (raw !== undefined)
    return {
      name: input.name,
      datatype: input.datatype,
      shape,
      data: rawInputData(input.name, input.datatype, shape, raw, "raw_input_contents holds"),
    };
  const field = CONTENTS_FIELD[input.datatype];
  if (!field && input.datatype in OIP_TO_ORT)
    throw new BadRequest(
      `input ${input.name}: ${input.datatype} travels as raw_input_contents (the protocol has no contents field for it)`,
    );
  const values = field ? (input.contents?.[field] ?? []) : [];
  const data = values.map((v) =>
    input.datatype === "BYTES"
      ? Buffer.from(v as Uint8Array).toString("utf8")
      : input.datatype === "BOOL"
        ? Boolean(v)
        : typeof v === "string"
          ? Number(v)
          : (v as number),
  );
  return { name: input.name, datatype: input.datatype, shape, data };
}

function responseTensors(
  outputs: Record<string, RowSlice>,
  names: string[],
  raw: boolean,
): { tensors: Array<Record<string, unknown>>; rawContents: Buffer[] } {
  const tensors: Array<Record<string, unknown>> = [];
  const rawContents: Buffer[] = [];
  for (const name of names) {
    const o = outputs[name];
    const count = o.dims.reduce((a, b) => a * b, 1);
    const datatype = ORT_TO_OIP[o.type] ?? o.type;
    const tensor: Record<string, unknown> = { name, datatype, shape: o.dims.map(String) };
    if (raw) rawContents.push(rawBytes(o, count));
    else {
      const field = CONTENTS_FIELD[datatype];
      const values = toJsonArray(o.type, o.buffer, o.offset, count);
      tensor.contents = {
        [field]:
          o.type === "string"
            ? values.map((v) => Buffer.from(String(v), "utf8"))
            : o.type === "int64" || o.type === "uint64"
              ? values.map(String)
              : values,
      };
    }
    tensors.push(tensor);
  }
  return { tensors, rawContents };
}

type Handler = (call: grpc.ServerUnaryCall<any, any>) => unknown | Promise<unknown>;

export class GrpcFrontEnd {
  private server: grpc.Server | undefined;
  private closing = false;

  constructor(private readonly options: GrpcOptions) {}

  private ready(): boolean {
    return serverReady(this.options.repository, this.closing);
  }

  private bearer(call: grpc.ServerUnaryCall<unknown, unknown>): string | undefined {
    const value = call.metadata.get("authorization")[0];
    return typeof value === "string" ? value : undefined;
  }

  /** Inference and model RPCs carry the --token when one is set. */
  private inferenceAuth(call: grpc.ServerUnaryCall<unknown, unknown>): void {
    if (this.options.token) checkBearer(this.bearer(call), this.options.token, "inference");
  }

  private readonly handlers: Record<string, Handler> = {
    ServerLive: () => ({ live: !this.closing }),
    ServerReady: () => ({ ready: this.ready() }),
    ServerMetadata: () => serverMetadata(),
    ModelReady: (call) => {
      this.inferenceAuth(call);
      const { name, version } = call.request as { name: string; version: string };
      try {
        this.options.router.pick(name, version || undefined);
        return { ready: !this.closing };
      } catch {
        return { ready: false };
      }
    },
    ModelMetadata: (call) => {
      this.inferenceAuth(call);
      const { name, version } = call.request as { name: string; version: string };
      const { state, loaded } = this.options.router.pick(name, version || undefined);
      const meta = modelMetadata(loaded, state);
      return {
        name: meta.name,
        versions: meta.versions,
        platform: meta.platform,
        inputs: meta.inputs,
        outputs: meta.outputs,
        properties: meta.properties,
      };
    },
    ModelInfer: (call) => this.infer(call as grpc.ServerUnaryCall<ModelInferRequest, unknown>),
    RepositoryModelLoad: async (call) => {
      checkBearer(this.bearer(call), this.options.adminToken, "the repository API");
      const name = (call.request as { model_name: string }).model_name;
      checkModelName(name);
      await this.options.repository.loadFromRepository(name);
      return { model_name: name, isLoaded: true };
    },
    RepositoryModelUnload: async (call) => {
      checkBearer(this.bearer(call), this.options.adminToken, "the repository API");
      const name = (call.request as { model_name: string }).model_name;
      checkModelName(name);
      await this.options.repository.unloadModel(name);
      return { model_name: name, isUnloaded: true };
    },
  };

  private async infer(call: grpc.ServerUnaryCall<ModelInferRequest, unknown>): Promise<unknown> {
    this.inferenceAuth(call);
    const started = performance.now();
    const request = call.request;
    const raw = request.raw_input_contents.length > 0;
    if (raw && request.raw_input_contents.length !== request.inputs.length)
      throw new BadRequest(
        `raw_input_contents has ${request.raw_input_contents.length} entries for ${request.inputs.length} inputs`,
      );
    if (raw && request.inputs.some((i) => i.contents && Object.values(i.contents).some((v) => v.length > 0)))
      throw new BadRequest("an input has contents while raw_input_contents is given: use one or the other");
    const name = request.model_name;
    let response: unknown;
    await measured(this.options, name, request.model_version, started, async (answeredBy) => {
      const inputs = request.inputs.map((input, i) =>
        requestTensor(input, raw ? request.raw_input_contents[i] : undefined),
      );
      const sticky = call.metadata.get("x-stackwright-key")[0];
      const { loaded, outputs } = await this.options.router.infer(
        name,
        request.model_version || undefined,
        inputs,
        typeof sticky === "string" ? sticky : undefined,
      );
      answeredBy(loaded.version);
      const names = outputNames(outputs, request.outputs.length > 0 ? request.outputs : undefined);
      // a type with no contents field (FP16) answers raw, and then every output does (the protocol
      // allows one encoding per response)
      const answerRaw = raw || names.some((n) => !CONTENTS_FIELD[ORT_TO_OIP[outputs[n].type] ?? ""]);
      const { tensors, rawContents } = responseTensors(outputs, names, answerRaw);
      response = {
        model_name: name,
        model_version: loaded.version,
        id: request.id,
        outputs: tensors,
        raw_output_contents: rawContents,
      };
    });
    return response;
  }

  /** Each RPC through its handler; a thrown error becomes its status's gRPC code and message. */
  private implementation(): grpc.UntypedServiceImplementation {
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [method, handler] of Object.entries(this.handlers)) {
      implementation[method] = (
        call: grpc.ServerUnaryCall<unknown, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => {
        Promise.resolve()
          .then(() => handler(call))
          .then(
            (value) => callback(null, value),
            (error: unknown) => {
              const { status, unexpected } = errorResponse(error);
              if (unexpected) this.options.log(`internal error: ${(error as Error).stack ?? String(error)}`);
              callback({ code: grpcCode(status), details: (error as Error).message ?? String(error) });
            },
          );
      };
    }
    return implementation;
  }

  async listen(): Promise<{ port: number }> {
    const { oip, kserve } = inferenceProtos();
    // the protocol's service, and the repository RPCs KServe adds to it at the same method paths
    const definition: grpc.ServiceDefinition = {
      ...oip.service,
      RepositoryModelLoad: kserve.service.RepositoryModelLoad,
      RepositoryModelUnload: kserve.service.RepositoryModelUnload,
    };
    this.server = new grpc.Server();
    this.server.addService(definition, this.implementation());
    const host = this.options.host ?? "127.0.0.1";
    const address = host.includes(":") ? `[${host}]:${this.options.port}` : `${host}:${this.options.port}`;
    const port = await new Promise<number>((resolve, reject) =>
      this.server!.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    return { port };
  }

  /** Stops taking calls and waits (at most `timeoutMs`) for those in flight. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, timeoutMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
