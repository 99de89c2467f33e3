/**
 * Tensor types beyond FP32 through every encoding: an FP16 identity model built here round-trips
 * over REST JSON, Triton's binary extension and gRPC raw contents; a model with a type the serving
 * core cannot carry is refused at load with the reason (exit 2), never a server that hangs.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIdentity, buildSequenceOutput } from "../../src/serve/onnx-build.js";
import { encodeStrings, fromHalfBits, toHalfBits } from "../../src/serve/tensors.js";
import { BIN, runCli } from "../helpers/cli.js";
import { type GrpcClient, grpcCall, grpcClient, grpcOk } from "./grpc-client.js";
import { freePort, modelsDir, post, postBinary, type Served, serve } from "./helpers.js";

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

/** `stackwright serve` over an identity model of `type`, with gRPC as well, and a client of it. */
function identityServer(type: "float16" | "string", model: string, width: number) {
  const served: { server: Served; client: GrpcClient; url: string } = {} as never;
  beforeAll(async () => {
    const path = join(modelsDir(), `${model}.onnx`);
    writeFileSync(path, buildIdentity(type, width));
    const grpcPort = await freePort();
    served.server = await serve([
      "--model",
      `${model}=${path}`,
      "--device",
      "cpu",
      "--grpc-port",
      String(grpcPort),
    ]);
    served.client = grpcClient(`127.0.0.1:${grpcPort}`);
    served.url = `${served.server.url}/v2/models/${model}`;
  });
  afterAll(async () => {
    served.client?.close();
    expect(await served.server.stop()).toBe(0);
  });
  return served;
}

/** One binary input's header entry. */
const binaryInput = (datatype: string, shape: number[], size: number) => ({
  name: "input",
  shape,
  datatype,
  parameters: { binary_data_size: size },
});

describe("FP16 over REST JSON, binary and gRPC", () => {
  const WIDTH = 4;
  const half = identityServer("float16", "half", WIDTH);
  const values = [1, -2.5, 0.1, 65504];
  const halves = values.map(toHalfBits);

  it("JSON numbers in, the nearest halves out; metadata says FP16", async () => {
    const meta = await (await fetch(half.url)).json();
    expect(meta.inputs).toEqual([{ name: "input", datatype: "FP16", shape: [-1, WIDTH] }]);
    const res = await post(`${half.url}/infer`, {
      inputs: [{ name: "input", shape: [1, WIDTH], datatype: "FP16", data: values }],
    });
    expect(res.status).toBe(200);
    const [out] = res.body.outputs as Array<{ datatype: string; data: number[] }>;
    expect(out.datatype).toBe("FP16");
    expect(out.data).toEqual(halves.map(fromHalfBits));
    expect(out.data[2]).toBe(0.0999755859375);
    const overflow = await post(`${half.url}/infer`, {
      inputs: [{ name: "input", shape: [1, WIDTH], datatype: "FP16", data: [1, 2, 3, 70000] }],
    });
    expect(overflow.status).toBe(400);
    expect(overflow.body.error).toContain("overflows float16 (largest 65504)");
  });

  it("binary in and out: the same bits", async () => {
    const bits = Buffer.from(new Uint16Array(halves).buffer);
    const res = await postBinary(
      `${half.url}/infer`,
      { inputs: [binaryInput("FP16", [1, WIDTH], bits.length)], parameters: { binary_data_output: true } },
      bits,
    );
    expect(res.status).toBe(200);
    expect(res.header.outputs[0]).toMatchObject({ datatype: "FP16", parameters: { binary_data_size: 8 } });
    expect(res.binary).toEqual(bits);
  });

  it("gRPC raw contents in and out: the same bits; typed contents are refused for FP16", async () => {
    const bits = Buffer.from(new Uint16Array(halves).buffer);
    const answer = await grpcOk(
      grpcCall(half.client, "ModelInfer", {
        model_name: "half",
        inputs: [{ name: "input", datatype: "FP16", shape: [1, WIDTH] }],
        raw_input_contents: [bits],
      }),
    );
    expect((answer.outputs as Array<{ datatype: string }>)[0].datatype).toBe("FP16");
    expect((answer.raw_output_contents as Buffer[])[0]).toEqual(bits);
    const typed = await grpcCall(half.client, "ModelInfer", {
      model_name: "half",
      inputs: [{ name: "input", datatype: "FP16", shape: [1, WIDTH], contents: { fp32_contents: values } }],
    });
    expect(typed).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
    expect((typed as { details: string }).details).toContain("FP16 travels as raw_input_contents");
  });
});

describe("BYTES (string tensors) over REST JSON, binary and gRPC", () => {
  const WIDTH = 2;
  const echo = identityServer("string", "echo", WIDTH);

  const infer = (data: unknown[], rows = data.length / WIDTH) =>
    post(`${echo.url}/infer`, {
      inputs: [{ name: "input", shape: [rows, WIDTH], datatype: "BYTES", data }],
    });

  it("JSON strings round-trip; concurrent requests batched together each get their own back", async () => {
    const meta = await (await fetch(echo.url)).json();
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
    const bytes = Buffer.from(encodeStrings(["alpha", "β"]));
    const res = await postBinary(
      `${echo.url}/infer`,
      { inputs: [binaryInput("BYTES", [1, WIDTH], bytes.length)], parameters: { binary_data_output: true } },
      bytes,
    );
    expect(res.status).toBe(200);
    expect(res.header.outputs[0].parameters).toEqual({ binary_data_size: bytes.length });
    expect(res.binary).toEqual(bytes);
    const broken = Buffer.from([9, 0, 0, 0, 97]);
    const bad = await postBinary(
      `${echo.url}/infer`,
      { inputs: [binaryInput("BYTES", [1, WIDTH], broken.length)] },
      broken,
    );
    expect(bad.status).toBe(400);
    expect(bad.header.error).toContain("the BYTES data does not parse");
  });

  it("gRPC: bytes_contents and raw contents", async () => {
    const typed = await grpcOk(
      grpcCall(echo.client, "ModelInfer", {
        model_name: "echo",
        inputs: [
          {
            name: "input",
            datatype: "BYTES",
            shape: [1, WIDTH],
            contents: { bytes_contents: [Buffer.from("one"), Buffer.from("twö")] },
          },
        ],
      }),
    );
    const out = (typed.outputs as Array<{ contents: { bytes_contents: Buffer[] } }>)[0];
    expect(out.contents.bytes_contents.map((b) => b.toString())).toEqual(["one", "twö"]);
    const bytes = Buffer.from(encodeStrings(["raw", ""]));
    const raw = await grpcOk(
      grpcCall(echo.client, "ModelInfer", {
        model_name: "echo",
        inputs: [{ name: "input", datatype: "BYTES", shape: [1, WIDTH] }],
        raw_input_contents: [bytes],
      }),
    );
    expect((raw.raw_output_contents as Buffer[])[0]).toEqual(bytes);
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
