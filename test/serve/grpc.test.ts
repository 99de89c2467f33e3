/**
 * The gRPC front end through a real @grpc/grpc-js client over loopback, its stubs built from the
 * vendored protos: every RPC, the same numbers as REST, errors as gRPC codes, tokens enforced.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GrpcClient, grpcCall, grpcClient, grpcOk } from "./grpc-client.js";
import { freePort, modelsDir, post, row, type Served, serve, writeModel } from "./helpers.js";

const ADMIN_TOKEN = "grpc-admin-token";
const TOKEN = "grpc-inference-token";
const AUTH = { authorization: `Bearer ${TOKEN}` };

describe("stackwright serve --grpc-port: the Open Inference Protocol over gRPC", () => {
  let server: Served;
  let oip: GrpcClient;
  let kserve: GrpcClient;
  let dir: string;
  const WIDTH = 8;

  beforeAll(async () => {
    dir = modelsDir();
    writeModel(dir, "fraud", "1", { layers: [WIDTH, 16, 1], sigmoid: true, seed: 7 }, "stage: production\n");
    const grpcPort = await freePort();
    server = await serve(["--models", dir, "--device", "cpu", "--grpc-port", String(grpcPort)], {
      env: { STACKWRIGHT_ADMIN_TOKEN: ADMIN_TOKEN, STACKWRIGHT_TOKEN: TOKEN },
    });
    oip = grpcClient(`127.0.0.1:${grpcPort}`);
    kserve = grpcClient(`127.0.0.1:${grpcPort}`, "grpc_predict_v2.proto");
    expect(server.stderr()).toContain(`and gRPC 127.0.0.1:${grpcPort}`);
  });
  afterAll(async () => {
    oip?.close();
    kserve?.close();
    expect(await server.stop()).toBe(0);
  });

  it("health and server metadata, open without a token", async () => {
    expect(await grpcOk(grpcCall(oip, "ServerLive", {}))).toEqual({ live: true });
    expect(await grpcOk(grpcCall(oip, "ServerReady", {}))).toEqual({ ready: true });
    const meta = await grpcOk(grpcCall(oip, "ServerMetadata", {}));
    const rest = await (await fetch(`${server.url}/v2`)).json();
    expect(meta).toEqual({ name: rest.name, version: rest.version, extensions: rest.extensions });
  });

  it("model readiness and metadata as REST gives them, behind the inference token", async () => {
    const denied = await grpcCall(oip, "ModelMetadata", { name: "fraud" });
    expect(denied).toMatchObject({ ok: false, code: grpc.status.UNAUTHENTICATED });
    expect(await grpcOk(grpcCall(oip, "ModelReady", { name: "fraud", version: "1" }, AUTH))).toEqual({
      ready: true,
    });
    expect(await grpcOk(grpcCall(oip, "ModelReady", { name: "nope" }, AUTH))).toEqual({ ready: false });
    const meta = await grpcOk(grpcCall(oip, "ModelMetadata", { name: "fraud" }, AUTH));
    const rest = await (await fetch(`${server.url}/v2/models/fraud`, { headers: AUTH })).json();
    expect(meta).toEqual({
      name: rest.name,
      versions: rest.versions,
      platform: rest.platform,
      inputs: rest.inputs.map((t: { shape: number[] }) => ({ ...t, shape: t.shape.map(String) })),
      outputs: rest.outputs.map((t: { shape: number[] }) => ({ ...t, shape: t.shape.map(String) })),
      properties: rest.properties,
    });
    expect(meta.properties).toMatchObject({ execution_provider: "cpu", stage: "production" });
    const unknown = await grpcCall(oip, "ModelMetadata", { name: "nope" }, AUTH);
    expect(unknown).toMatchObject({ ok: false, code: grpc.status.NOT_FOUND });
  });

  it("ModelInfer with typed contents and with raw contents gives REST's numbers", async () => {
    const data = row(3, WIDTH, 4);
    const rest = await post(
      `${server.url}/v2/models/fraud/infer`,
      { id: "r1", inputs: [{ name: "input", shape: [3, WIDTH], datatype: "FP32", data }] },
      AUTH,
    );
    expect(rest.status).toBe(200);
    const expected = (rest.body.outputs as Array<{ data: number[] }>)[0].data;

    const typed = await grpcOk<{
      model_name: string;
      model_version: string;
      id: string;
      outputs: Array<{
        name: string;
        datatype: string;
        shape: string[];
        contents: { fp32_contents: number[] };
      }>;
      raw_output_contents: Buffer[];
    }>(
      grpcCall(
        oip,
        "ModelInfer",
        {
          model_name: "fraud",
          id: "g1",
          inputs: [{ name: "input", datatype: "FP32", shape: [3, WIDTH], contents: { fp32_contents: data } }],
        },
        AUTH,
      ),
    );
    expect(typed).toMatchObject({ model_name: "fraud", model_version: "1", id: "g1" });
    expect(typed.outputs[0]).toMatchObject({ datatype: "FP32", shape: ["3", "1"] });
    expect(typed.outputs[0].contents.fp32_contents.map((v) => Math.fround(v))).toEqual(
      expected.map((v) => Math.fround(v)),
    );
    expect(typed.raw_output_contents).toEqual([]);

    const raw = await grpcOk<{
      outputs: Array<{ name: string; shape: string[] }>;
      raw_output_contents: Buffer[];
    }>(
      grpcCall(
        oip,
        "ModelInfer",
        {
          model_name: "fraud",
          model_version: "1",
          inputs: [{ name: "input", datatype: "FP32", shape: [3, WIDTH] }],
          outputs: [{ name: typed.outputs[0].name }],
          raw_input_contents: [Buffer.from(new Float32Array(data).buffer)],
        },
        AUTH,
      ),
    );
    const bytes = raw.raw_output_contents[0];
    const values = new Float32Array(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    );
    expect([...values]).toEqual(expected.map((v) => Math.fround(v)));

    // counted in the same metrics as REST
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/stackwright_requests_total\{[^}]*model="fraud"[^}]*\} [3-9]/);
  });

  it("bad requests are gRPC errors with what was wrong", async () => {
    const wrongShape = await grpcCall(
      oip,
      "ModelInfer",
      {
        model_name: "fraud",
        inputs: [{ name: "input", datatype: "FP32", shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } }],
      },
      AUTH,
    );
    expect(wrongShape).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    expect((wrongShape as { details: string }).details).toContain("dimension 1 is 3; the model expects 8");
    const shortRaw = await grpcCall(
      oip,
      "ModelInfer",
      {
        model_name: "fraud",
        inputs: [{ name: "input", datatype: "FP32", shape: [1, WIDTH] }],
        raw_input_contents: [Buffer.alloc(12)],
      },
      AUTH,
    );
    expect(shortRaw).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    expect((shortRaw as { details: string }).details).toContain("holds 12 bytes");
    const unknown = await grpcCall(
      oip,
      "ModelInfer",
      { model_name: "nope", inputs: [{ name: "input", datatype: "FP32", shape: [1, 1], contents: {} }] },
      AUTH,
    );
    expect(unknown).toMatchObject({ ok: false, code: grpc.status.NOT_FOUND });
  });

  it("repository load and unload behind the admin token; a name that leaves the repository is refused", async () => {
    const anonymous = await grpcCall(kserve, "RepositoryModelUnload", { model_name: "fraud" });
    expect(anonymous).toMatchObject({ ok: false, code: grpc.status.UNAUTHENTICATED });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const traversal = await grpcCall(kserve, "RepositoryModelLoad", { model_name: "../../tmp/x" }, admin);
    expect(traversal).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    expect(await grpcOk(grpcCall(kserve, "RepositoryModelUnload", { model_name: "fraud" }, admin))).toEqual({
      model_name: "fraud",
      isUnloaded: true,
    });
    expect(await grpcOk(grpcCall(oip, "ModelReady", { name: "fraud" }, AUTH))).toEqual({ ready: false });
    expect(await grpcOk(grpcCall(kserve, "RepositoryModelLoad", { model_name: "fraud" }, admin))).toEqual({
      model_name: "fraud",
      isLoaded: true,
    });
    expect(await grpcOk(grpcCall(oip, "ModelReady", { name: "fraud" }, AUTH))).toEqual({ ready: true });
  });
});
