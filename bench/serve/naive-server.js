// Baselines for the serving benchmark, each in its own process:
//   MODE=constant  fastify answering a constant (the HTTP floor)
//   MODE=naive     fastify + onnxruntime-node calling session.run per request (what one writes by hand)
import Fastify from "fastify";
import ort from "onnxruntime-node";

const mode = process.env.MODE;
const port = Number(process.env.PORT);
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
if (mode === "constant") {
  app.post("/v2/models/:name/infer", async () => ({
    model_name: "m",
    outputs: [{ name: "output", datatype: "FP32", shape: [1, 1], data: [0.5] }],
  }));
} else {
  const session = await ort.InferenceSession.create(process.env.MODEL);
  app.post("/v2/models/:name/infer", async (req) => {
    const input = req.body.inputs[0];
    const result = await session.run({
      input: new ort.Tensor("float32", Float32Array.from(input.data), input.shape),
    });
    const out = result[session.outputNames[0]];
    return {
      model_name: "m",
      outputs: [{ name: "output", datatype: "FP32", shape: out.dims, data: Array.from(out.data) }],
    };
  });
}
app.get("/v2/health/live", async () => ({ live: true }));
await app.listen({ port, host: "127.0.0.1" });
process.stdout.write("ready\n");
