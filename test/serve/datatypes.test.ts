/**
 * Tensor types beyond FP32 through every encoding: an FP16 identity model built here round-trips
 * over REST JSON, Triton's binary extension and gRPC raw contents; a model with a type the serving
 * core cannot carry is refused at load with the reason (exit 2), never a server that hangs.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIdentity, buildSequenceOutput } from "../../src/serve/onnx-build.js";
import { encodeStrings, fromHalfBits, toHalfBits } from "../../src/serve/tensors.js";
import { BIN, ROOT, runCli } from "../helpers/cli.js";
import { freePort, modelsDir, post, type Served, serve } from "./helpers.js";

describe("half precision bits", () => {
  it("rounds to the nearest half, ties to even, overflow to infinity, subnormals kept", () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00);
    expect(toHalfBits(0.1)).toBe(0x2e66);
    expect(toHalfBits(2 ** -24)).toBe(0x0001);
    expect(toHalfBits(2 ** -26)).toBe(0);
    // 1 + 2^-11 lies halfway between 1 and the next half: ties go to the even one
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(Number.NaN) & 0x7c00).toBe(0x7c00);
    for (const bits of [0x0001, 0x03ff, 0x3c00, 0x3555, 0x7bff, 0xc000, 0x8001])
      expect(toHalfBits(fromHalfBits(bits))).toBe(bits);
  });
});

describe("FP16 over REST JSON, binary and gRPC", () => {
  let server: Served;
  let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  const WIDTH = 4;
  const values = [1, -2.5, 0.1, 65504];
  const halves = values.map(toHalfBits);

  beforeAll(async () => {
    const dir = modelsDir();
    const path = join(dir, "half.onnx");
    writeFileSync(path, buildIdentity("float16", WIDTH));
    const grpcPort = await freePort();
    server = await serve(["--model", `half=${path}`, "--device", "cpu", "--grpc-port", String(grpcPort)]);
    const definition = protoLoader.loadSync(join(ROOT, "proto", "open_inference_grpc.proto"), {
      keepCase: true,
      longs: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    client = new pkg.inference.GRPCInferenceService(
      `127.0.0.1:${grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as typeof client;
  });
  afterAll(async () => {
    client?.close();
    expect(await server.stop()).toBe(0);
  });

  it("JSON numbers in, the nearest halves out; metadata says FP16", async () => {
    const meta = await (await fetch(`${server.url}/v2/models/half`)).json();
    expect(meta.inputs).toEqual([{ name: "input", datatype: "FP16", shape: [-1, WIDTH] }]);
    const res = await post(`${server.url}/v2/models/half/infer`, {
      inputs: [{ name: "input", shape: [1, WIDTH], datatype: "FP16", data: values }],
    });
    expect(res.status).toBe(200);
    const [out] = res.body.outputs as Array<{ datatype: string; data: number[] }>;
    expect(out.datatype).toBe("FP16");
    expect(out.data).toEqual(halves.map(fromHalfBits));
    expect(out.data[2]).toBe(0.0999755859375);
    const overflow = await post(`${server.url}/v2/models/half/infer`, {
      inputs: [{ name: "input", shape: [1, WIDTH], datatype: "FP16", data: [1, 2, 3, 70000] }],
    });
    expect(overflow.status).toBe(400);
    expect(overflow.body.error).toContain("overflows float16 (largest 65504)");
  });

  it("binary in and out: the same bits", async () => {
    const bits = Buffer.from(new Uint16Array(halves).buffer);
    const head = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: "input",
            shape: [1, WIDTH],
            datatype: "FP16",
            parameters: { binary_data_size: bits.length },
          },
        ],
        parameters: { binary_data_output: true },
      }),
    );
    const res = await fetch(`${server.url}/v2/models/half/infer`, {
      method: "POST",
      headers: { "inference-header-content-length": String(head.length) },
      body: Buffer.concat([head, bits]),
    });
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    const length = Number(res.headers.get("inference-header-content-length"));
    expect(JSON.parse(body.subarray(0, length).toString()).outputs[0]).toMatchObject({
      datatype: "FP16",
      parameters: { binary_data_size: 8 },
    });
    expect(body.subarray(length)).toEqual(bits);
  });

  it("gRPC raw contents in and out: the same bits; typed contents are refused for FP16", async () => {
    const bits = Buffer.from(new Uint16Array(halves).buffer);
    const answer = await new Promise<{ error: grpc.ServiceError | null; value: Record<string, unknown> }>(
      (resolve) =>
        (
          client.ModelInfer as (
            r: unknown,
            cb: (e: grpc.ServiceError | null, v: Record<string, unknown>) => void,
          ) => void
        )(
          {
            model_name: "half",
            inputs: [{ name: "input", datatype: "FP16", shape: [1, WIDTH] }],
            raw_input_contents: [bits],
          },
          (error, value) => resolve({ error, value }),
        ),
    );
    expect(answer.error).toBeNull();
    expect((answer.value.outputs as Array<{ datatype: string }>)[0].datatype).toBe("FP16");
    expect((answer.value.raw_output_contents as Buffer[])[0]).toEqual(bits);
    const typed = await new Promise<grpc.ServiceError | null>((resolve) =>
      (client.ModelInfer as (r: unknown, cb: (e: grpc.ServiceError | null) => void) => void)(
        {
          model_name: "half",
          inputs: [
            { name: "input", datatype: "FP16", shape: [1, WIDTH], contents: { fp32_contents: values } },
          ],
        },
        resolve,
      ),
    );
    expect(typed?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(typed?.details).toContain("FP16 travels as raw_input_contents");
  });
});

describe("BYTES (string tensors) over REST JSON, binary and gRPC", () => {
  let server: Served;
  let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  const WIDTH = 2;

  beforeAll(async () => {
    const dir = modelsDir();
    const path = join(dir, "strings.onnx");
    writeFileSync(path, buildIdentity("string", WIDTH));
    const grpcPort = await freePort();
    server = await serve(["--model", `echo=${path}`, "--device", "cpu", "--grpc-port", String(grpcPort)]);
    const pkg = grpc.loadPackageDefinition(
      protoLoader.loadSync(join(ROOT, "proto", "open_inference_grpc.proto"), {
        keepCase: true,
        longs: String,
        defaults: true,
      }),
    ) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
    client = new pkg.inference.GRPCInferenceService(
      `127.0.0.1:${grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as typeof client;
  });
  afterAll(async () => {
    client?.close();
    expect(await server.stop()).toBe(0);
  });

  const infer = (data: unknown[], rows = data.length / WIDTH) =>
    post(`${server.url}/v2/models/echo/infer`, {
      inputs: [{ name: "input", shape: [rows, WIDTH], datatype: "BYTES", data }],
    });

  it("JSON strings round-trip; concurrent requests batched together each get their own back", async () => {
    const meta = await (await fetch(`${server.url}/v2/models/echo`)).json();
    expect(meta.inputs).toEqual([{ name: "input", datatype: "BYTES", shape: [-1, WIDTH] }]);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => infer([`request ${i}`, "x".repeat(i), "é ✓", ""], 2)),
    );
    answers.forEach((res, i) => {
      expect(res.status).toBe(200);
      expect((res.body.outputs as Array<{ datatype: string; data: string[] }>)[0]).toMatchObject({
        datatype: "BYTES",
        shape: [2, WIDTH],
        data: [`request ${i}`, "x".repeat(i), "é ✓", ""],
      });
    });
    const notString = await infer([1, "a"]);
    expect(notString.status).toBe(400);
    expect(notString.body.error).toBe("input input: data[0] is 1, expected a string (BYTES)");
  });

  it("binary: serialized BYTES in and out; a length past the end is a 400", async () => {
    const send = (header: Record<string, unknown>, tail: Buffer) => {
      const head = Buffer.from(JSON.stringify(header));
      return fetch(`${server.url}/v2/models/echo/infer`, {
        method: "POST",
        headers: { "inference-header-content-length": String(head.length) },
        body: Buffer.concat([head, tail]),
      });
    };
    const bytes = Buffer.from(encodeStrings(["alpha", "β"]));
    const res = await send(
      {
        inputs: [
          {
            name: "input",
            shape: [1, WIDTH],
            datatype: "BYTES",
            parameters: { binary_data_size: bytes.length },
          },
        ],
        parameters: { binary_data_output: true },
      },
      bytes,
    );
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    const length = Number(res.headers.get("inference-header-content-length"));
    expect(JSON.parse(body.subarray(0, length).toString()).outputs[0].parameters).toEqual({
      binary_data_size: bytes.length,
    });
    expect(body.subarray(length)).toEqual(bytes);
    const broken = Buffer.from([9, 0, 0, 0, 97]);
    const bad = await send(
      {
        inputs: [
          {
            name: "input",
            shape: [1, WIDTH],
            datatype: "BYTES",
            parameters: { binary_data_size: broken.length },
          },
        ],
      },
      broken,
    );
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toContain("the BYTES data does not parse");
  });

  it("gRPC: bytes_contents and raw contents", async () => {
    const call = (request: unknown) =>
      new Promise<{ error: grpc.ServiceError | null; value: Record<string, unknown> }>((resolve) =>
        (
          client.ModelInfer as (
            r: unknown,
            cb: (e: grpc.ServiceError | null, v: Record<string, unknown>) => void,
          ) => void
        )(request, (error, value) => resolve({ error, value })),
      );
    const typed = await call({
      model_name: "echo",
      inputs: [
        {
          name: "input",
          datatype: "BYTES",
          shape: [1, WIDTH],
          contents: { bytes_contents: [Buffer.from("one"), Buffer.from("twö")] },
        },
      ],
    });
    expect(typed.error).toBeNull();
    const out = (typed.value.outputs as Array<{ contents: { bytes_contents: Buffer[] } }>)[0];
    expect(out.contents.bytes_contents.map((b) => b.toString())).toEqual(["one", "twö"]);
    const bytes = Buffer.from(encodeStrings(["raw", ""]));
    const raw = await call({
      model_name: "echo",
      inputs: [{ name: "input", datatype: "BYTES", shape: [1, WIDTH] }],
      raw_input_contents: [bytes],
    });
    expect(raw.error).toBeNull();
    expect((raw.value.raw_output_contents as Buffer[])[0]).toEqual(bytes);
  });
});

describe("a model the serving core cannot carry is refused at load", () => {
  it("exits 2 naming the tensor, its type and the types it can carry; calibrate refuses it the same way", () => {
    const dir = modelsDir();
    const path = join(dir, "bf16.onnx");
    writeFileSync(path, buildIdentity("bfloat16", 2));
    const started = spawnSync(process.execPath, [BIN, "serve", "--model", `bf=${path}`, "--port", "0"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(started.status).toBe(2);
    expect(started.stderr).toContain("cannot start serving");
    expect(started.stderr).toMatch(/bf v1: .*Unsupported data type/);
    const calibrated = runCli(["calibrate", "--model", path, "-o", join(dir, "never.json")]);
    expect(calibrated.code).toBe(2);
    expect(calibrated.stderr).toMatch(/Unsupported data type/);
    // a model ONNX Runtime runs whose output the protocol cannot carry (a sequence of tensors)
    const sequence = join(dir, "sequence.onnx");
    writeFileSync(sequence, buildSequenceOutput(2));
    const refused = spawnSync(process.execPath, [BIN, "serve", "--model", `q=${sequence}`, "--port", "0"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(
      "cannot serve output output (not a tensor): the serving core carries float16, float32",
    );
  });
});
