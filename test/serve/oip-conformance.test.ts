/**
 * The REST half against the protocol's own OpenAPI document (proto/open_inference_rest.yaml,
 * vendored): every response body validated with ajv against the schema its path declares, plus the
 * points where the schema is stricter than JSON (a string id, scalar parameters, the platform name)
 * and the model_repository extension the server advertises (POST /v2/repository/index).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { load } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";
import { modelsDir, post, postBinary, row, type Served, serve, writeModel } from "./helpers.js";

const ADMIN_TOKEN = "oip-admin-token";
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}` };
const WIDTH = 4;

const openapi = load(readFileSync(join(ROOT, "proto", "open_inference_rest.yaml"), "utf8")) as {
  components: { schemas: Record<string, unknown> };
};
// OpenAPI's own keywords (x-examples) are annotations here
const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addSchema({ $id: "oip", components: openapi.components });

function expectValid(schema: string, body: unknown): void {
  const validate = ajv.getSchema(`oip#/components/schemas/${schema}`)!;
  const valid = validate(body);
  expect(valid, `${schema}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body)}`).toBe(true);
}

describe("the REST half against the Open Inference Protocol's OpenAPI schemas", () => {
  let server: Served;
  beforeAll(async () => {
    const dir = modelsDir();
    writeModel(
      dir,
      "scorer",
      "1",
      { layers: [WIDTH, 8, 2], seed: 3 },
      "stage: production\nfeatures: [a, b, c, d]\n",
    );
    writeModel(dir, "scorer", "2", { layers: [WIDTH, 8, 2], seed: 4 }, "stage: staging\n");
    // unloaded once started: the index lists it as UNAVAILABLE
    writeModel(dir, "unloaded", "1", { layers: [WIDTH, 2], seed: 5 });
    server = await serve(["--models", dir, "--device", "cpu"], {
      env: { STACKWRIGHT_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    expect((await post(`${server.url}/v2/repository/models/unloaded/unload`, {}, ADMIN)).status).toBe(200);
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it("server and model metadata: the protocol's shapes, platform onnx_onnxv1, scalar parameters", async () => {
    expectValid("metadata_server_response", await (await fetch(`${server.url}/v2`)).json());
    const meta = await (await fetch(`${server.url}/v2/models/scorer`)).json();
    expectValid("metadata_model_response", meta);
    expect(meta.platform).toBe("onnx_onnxv1");
    for (const value of Object.values(meta.parameters))
      expect(["string", "number", "boolean"]).toContain(typeof value);
    expect(meta.properties.features).toBe("a,b,c,d");
    const missing = await fetch(`${server.url}/v2/models/nope`);
    expect(missing.status).toBe(404);
    expectValid("metadata_model_error_response", await missing.json());
  });

  it("inference responses and errors; a request id must be a string", async () => {
    const ok = await post(`${server.url}/v2/models/scorer/infer`, {
      id: "req-7",
      inputs: [{ name: "input", shape: [2, WIDTH], datatype: "FP32", data: row(2, WIDTH) }],
    });
    expect(ok.status).toBe(200);
    expectValid("inference_response", ok.body);
    expect(ok.body.id).toBe("req-7");
    const numeric = await post(`${server.url}/v2/models/scorer/infer`, {
      id: 7,
      inputs: [{ name: "input", shape: [1, WIDTH], datatype: "FP32", data: row(1, WIDTH) }],
    });
    expect(numeric.status).toBe(400);
    expect(numeric.body.error).toBe("id must be a string, got 7");
    expectValid("inference_error_response", numeric.body);
  });

  it("the repository index lists every version on disk and loaded, with its state, behind the admin token", async () => {
    expect((await post(`${server.url}/v2/repository/index`, {})).status).toBe(401);
    const index = await post(`${server.url}/v2/repository/index`, {}, ADMIN);
    expect(index.status).toBe(200);
    expect(index.body).toEqual([
      { name: "scorer", version: "1", state: "READY", reason: "" },
      { name: "scorer", version: "2", state: "READY", reason: "" },
      { name: "unloaded", version: "1", state: "UNAVAILABLE", reason: "not loaded" },
    ]);
    const ready = await post(`${server.url}/v2/repository/index`, { ready: true }, ADMIN);
    expect(ready.body).toEqual([
      { name: "scorer", version: "1", state: "READY", reason: "" },
      { name: "scorer", version: "2", state: "READY", reason: "" },
    ]);
    const bad = await post(`${server.url}/v2/repository/index`, { ready: "yes" }, ADMIN);
    expect(bad.status).toBe(400);
  });

  it("Triton's binary tensor extension: binary inputs and outputs give the JSON numbers", async () => {
    const url = `${server.url}/v2/models/scorer/infer`;
    const data = row(2, WIDTH, 9);
    const json = await post(url, { inputs: [{ name: "input", shape: [2, WIDTH], datatype: "FP32", data }] });
    const expected = (json.body.outputs as Array<{ data: number[] }>)[0].data.map((v) => Math.fround(v));
    const input = Buffer.from(new Float32Array(data).buffer);
    const inputs = (size: number) => [
      { name: "input", shape: [2, WIDTH], datatype: "FP32", parameters: { binary_data_size: size } },
    ];

    const binary = await postBinary(
      url,
      { inputs: inputs(input.length), outputs: [{ name: "output", parameters: { binary_data: true } }] },
      input,
    );
    expect(binary.status).toBe(200);
    expect(binary.contentType).toBe("application/octet-stream");
    expect(binary.header.outputs).toEqual([
      { name: "output", datatype: "FP32", shape: [2, 2], parameters: { binary_data_size: 16 } },
    ]);
    expect([...new Float32Array(new Uint8Array(binary.binary).buffer)]).toEqual(expected);

    // binary outputs for a JSON request (binary_data_output), JSON outputs for a binary one
    const asked = await post(url, {
      inputs: [{ name: "input", shape: [2, WIDTH], datatype: "FP32", data }],
      parameters: { binary_data_output: true },
    });
    expect(asked.status).toBe(200);
    expect(asked.headers.get("content-type")).toBe("application/octet-stream");
    const jsonOut = await postBinary(url, { inputs: inputs(input.length) }, input);
    expect(jsonOut.contentType).toBe("application/json");
    expectValid("inference_response", jsonOut.header);
    expect(jsonOut.header.outputs[0].data.map((v: number) => Math.fround(v))).toEqual(expected);

    // what does not add up is a 400 naming it
    const short = await postBinary(url, { inputs: inputs(8) }, input.subarray(0, 8));
    expect(short.status).toBe(400);
    expect(short.header.error).toContain("binary_data_size is 8 bytes; shape [2,4] of FP32 needs 32");
    const extra = await postBinary(
      url,
      { inputs: inputs(input.length) },
      Buffer.concat([input, Buffer.alloc(4)]),
    );
    expect(extra.header.error).toBe("4 bytes after the header belong to no input's binary_data_size");
    const tooLong = await postBinary(url, { inputs: [] }, Buffer.alloc(0), 10_000);
    expect(tooLong.status).toBe(400);
    expect(tooLong.header.error).toMatch(/Inference-Header-Content-Length is "10000"/);
  });
});
