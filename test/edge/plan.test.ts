/**
 * Edge and embedded plans: the spec's devices decide the pattern (each decision with its reason), the
 * device class's figures size one device and refuse what it cannot hold or reach, and the generated
 * platform/edge/ runs: bundled, signed and served by `edge run` with serve's answers, loaded in process
 * by its Node entry, and on onnxruntime-web under Node by its browser entry.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { generateSigningKeys } from "../../src/edge/bundle.js";
import { generateAll } from "../../src/generate/index.js";
import { createPlan } from "../../src/plan/index.js";
import type { Plan } from "../../src/plan/types.js";
import { parseSpecValue } from "../../src/requirements/index.js";
import { writeFileSet } from "../../src/write/index.js";
import { ROOT, runCli, runCliAsync } from "../helpers/cli.js";
import { planOf } from "../helpers/plans.js";
import { serve } from "../serve/helpers.js";

type Any = Record<string, any>;

function planFrom(spec: Any): Plan {
  const parsed = parseSpecValue({ metadata: { name: "edge-test" }, ...spec });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return createPlan(parsed.spec);
}

const decision = (plan: Plan, capability: string) => plan.decisions.find((d) => d.capability === capability)!;
const codes = (plan: Plan) => plan.warnings.map((w) => w.code);

const EDGE = {
  useCase: { kind: "computer-vision" },
  model: { framework: "pytorch", format: "onnx", architecture: "mobilenet-v2" },
  inference: { mode: "edge", latencyP99Ms: 100, peakQps: 10 },
  edge: { devices: 40, hardware: "cpu-arm", memoryMb: 2048, connectivity: "intermittent", sites: 4 },
};

describe("edge and embedded plans", () => {
  it("a fleet of devices plans the edge pattern, each decision with its reason", () => {
    const plan = planFrom(EDGE);
    const expected = {
      "serving.mode": "edge",
      "serving.runtime": "on-device",
      "serving.engine": "onnx-core-sidecar",
      "serving.hardware": "cpu",
      "deployment.strategy": "staged-rings",
      "monitoring.metrics": "device-telemetry",
      "scaling.strategy": "one-per-device",
      "security.identity": "device-certificates",
      "security.secrets": "device-key",
      "deployment.access": "device-pull",
    };
    for (const [capability, choice] of Object.entries(expected))
      expect(decision(plan, capability).choice, capability).toBe(choice);
    expect(decision(plan, "serving.mode").because).toContain(
      "40 cpu-arm devices at 4 site(s) with intermittent connectivity",
    );
    expect(decision(plan, "serving.mode").alternatives.map((a) => a.choice)).toContain("realtime");
    // one replica per device, sized on the device class's figure
    expect(plan.capacity.replicasMin).toBe(40);
    expect(plan.capacity.instanceType).toContain("Raspberry Pi 5");
    expect(plan.capacity.estimatedFrom).toContain("23 GFLOP/s");
    // on AWS (the default cloud) the cloud side is built and priced: the stores, nothing that serves
    expect(plan.cost.items.map((i) => i.name).sort()).toEqual(["Bundle store", "Device telemetry"]);
    expect(codes(plan)).not.toContain("EDGE_CLOUD_SIDE_NOT_BUILT");
    // on Azure too: the stores and the IoT Hub (sized on the fleet's uploads), each device by its certificate
    const azure = planFrom({ ...EDGE, cloud: { provider: "azure", region: "westeurope" } });
    expect(azure.cost.items.map((i) => i.name).sort()).toEqual([
      "Bundle store",
      "Device registry",
      "Device telemetry",
    ]);
    expect(codes(azure)).not.toContain("EDGE_CLOUD_SIDE_NOT_BUILT");
    expect(decision(azure, "security.identity").choice).toBe("device-certificates");
    expect(decision(azure, "security.identity").because).toContain("SHA-256 thumbprint");
    expect(decision(azure, "security.secrets").choice).toBe("device-key");
    const hub = azure.inventory!.resources.find((r) => r.address === "azurerm_iothub.main")!;
    // 40 devices x two uploads a minute x two hub calls: 230,400 messages a day, one S1 unit
    expect(hub.attributes).toMatchObject({ devices: 40, units: 1, messagesPerDay: 230_400 });
    const azureFiles = generateAll(azure);
    expect(
      Object.keys(azureFiles)
        .filter((f) => f.startsWith("infra/"))
        .sort(),
    ).toEqual(
      ["hub", "main", "outputs", "providers", "release", "releases", "uploads", "variables", "versions"].map(
        (f) => `infra/terraform/azure/${f}.tf`,
      ),
    );
    expect(azureFiles["infra/terraform/azure/hub.tf"]).toMatch(/capacity = 1\b/);
    expect(azureFiles[".github/workflows/edge-release.yml"]).toContain("azure/login@v2");
    // with a customer-managed key (soc2): Key Vault, and both accounts encrypt with it through their identity
    const soc2 = planFrom({ ...EDGE, compliance: ["soc2"], cloud: azure.requirements.cloud });
    const soc2Files = generateAll(soc2);
    expect(soc2Files["infra/terraform/azure/kms.tf"]).toContain('resource "azurerm_key_vault_key" "main"');
    for (const file of ["releases.tf", "uploads.tf"])
      expect(soc2Files[`infra/terraform/azure/${file}`]).toContain("customer_managed_key {");
    expect(soc2.cost.items.map((i) => i.name)).toContain("Customer-managed keys");
    // a larger fleet needs more units: 200 devices, 1,152,000 messages a day, three units
    const large = planFrom({
      ...EDGE,
      edge: { ...EDGE.edge, devices: 200 },
      cloud: azure.requirements.cloud,
    });
    expect(
      large.inventory!.resources.find((r) => r.address === "azurerm_iothub.main")!.attributes.units,
    ).toBe(3);
    // on Google Cloud it is not: nothing is priced and the plan says so, rather than pricing a cluster
    const gcp = planFrom({ ...EDGE, cloud: { provider: "gcp", region: "europe-west1" } });
    expect(gcp.cost.items).toEqual([]);
    expect(codes(gcp)).toContain("EDGE_CLOUD_SIDE_NOT_BUILT");
    expect(decision(gcp, "security.identity").choice).toBe("signed-bundles");
    expect(decision(gcp, "security.secrets").choice).toBe("device-environment");
    expect(
      Object.keys(generateAll(gcp)).filter((f) => f.startsWith("infra/") || f.includes("edge-release")),
    ).toEqual([]);
  });

  it("the engine follows the device: onnxruntime-web in a browser, in-process when embedded, the GPU on a Jetson", () => {
    const browser = planFrom({
      ...EDGE,
      inference: { ...EDGE.inference, mode: "embedded" },
      edge: { devices: 1000, hardware: "browser", memoryMb: 512 },
    });
    expect(decision(browser, "serving.mode").choice).toBe("embedded");
    expect(decision(browser, "serving.engine").choice).toBe("onnxruntime-web");
    const app = planFrom({
      ...EDGE,
      inference: { ...EDGE.inference, mode: "embedded" },
      edge: { devices: 200, hardware: "cpu-x86", memoryMb: 1024 },
    });
    expect(decision(app, "serving.engine").choice).toBe("onnx-core-in-process");
    const jetson = planFrom({ ...EDGE, edge: { ...EDGE.edge, hardware: "jetson", memoryMb: 4096 } });
    expect(decision(jetson, "serving.hardware").choice).toBe("gpu");
    expect(jetson.capacity.hardware).toBe("gpu");
  });

  it("a model the device cannot hold at FP32 is quantized to int8; one it cannot hold at all is refused", () => {
    const tight = planFrom({
      ...EDGE,
      model: { framework: "pytorch", format: "onnx", parametersMillions: 60, gflopsPerRow: 0.5 },
      edge: { ...EDGE.edge, memoryMb: 400 },
    });
    expect(decision(tight, "serving.optimization").choice).toBe("int8-quantization");
    expect(decision(tight, "serving.optimization").because).toContain("400 MB");
    expect(tight.capacity.precision).toBe("int8");
    const huge = planFrom({
      ...EDGE,
      model: { framework: "pytorch", format: "onnx", parametersMillions: 900, gflopsPerRow: 0.5 },
      edge: { ...EDGE.edge, memoryMb: 400 },
    });
    const tooLarge = huge.warnings.find((w) => w.code === "MODEL_TOO_LARGE_FOR_DEVICE")!;
    expect(tooLarge.severity).toBe("error");
    expect(tooLarge.path).toBe("edge.memoryMb");
  });

  it("refuses a latency the device class cannot reach, a GPU-only model on a CPU device, and says an NPU is not used", () => {
    const slow = planFrom({
      ...EDGE,
      model: { framework: "pytorch", format: "onnx", architecture: "resnet50" },
      inference: { ...EDGE.inference, latencyP99Ms: 50 },
    });
    const unreachable = slow.warnings.find((w) => w.code === "LATENCY_UNREACHABLE_ON_DEVICE")!;
    expect(unreachable.severity).toBe("error");
    expect(unreachable.message).toMatch(/about \d+(\.\d+)? ms on Raspberry Pi 5 .* at 23 GFLOP\/s, measured/);
    expect(codes(planFrom({ ...EDGE, inference: { ...EDGE.inference, latencyP99Ms: 100 } }))).not.toContain(
      "LATENCY_UNREACHABLE_ON_DEVICE",
    );
    const gpuOnly = planFrom({ ...EDGE, model: { ...EDGE.model, gpu: true } });
    expect(codes(gpuOnly)).toContain("GPU_MODEL_ON_CPU_DEVICE");
    expect(
      codes(
        planFrom({
          ...EDGE,
          model: { ...EDGE.model, gpu: true },
          edge: { ...EDGE.edge, hardware: "jetson" },
        }),
      ),
    ).not.toContain("GPU_MODEL_ON_CPU_DEVICE");
    expect(codes(planFrom({ ...EDGE, edge: { ...EDGE.edge, hardware: "npu" } }))).toContain("NPU_NOT_USED");
  });

  it("the devices section goes with an on-device mode, and only with one", () => {
    const missing = parseSpecValue({ metadata: { name: "x" }, inference: { mode: "edge" } });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.problems[0]).toMatchObject({ path: "edge", severity: "error" });
    const stray = parseSpecValue({
      metadata: { name: "x" },
      inference: { mode: "realtime" },
      edge: EDGE.edge,
    });
    expect(stray.ok).toBe(false);
    if (!stray.ok) expect(stray.problems[0].path).toBe("inference.mode");
    const file = join(mkdtempSync(join(tmpdir(), "sw-edge-spec-")), "spec.yaml");
    writeFileSync(
      file,
      "metadata: { name: x }\ninference: { mode: edge }\nedge: { devices: 3, hardware: toaster, memoryMb: 512 }\n",
    );
    const bad = runCli(["plan", "--spec", file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("edge.hardware: not one of the allowed values");
  });
});

describe("the generated platform/edge/ runs", () => {
  // under the package root, so the generated entries resolve "stackwright" and "onnxruntime-web"
  mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
  const out = mkdtempSync(join(ROOT, "test-artifacts", "edge-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  const keys = generateSigningKeys();
  writeFileSync(join(out, "fleet.key"), keys.privateKeyPem);
  writeFileSync(join(out, "fleet.pub"), keys.publicKeyPem);

  it("the example's bundle verifies, and edge run, the Node entry and the browser entry answer as serve does", async () => {
    const plan = await planOf("line-defects");
    writeFileSet(out, generateAll(plan), { specHash: plan.spec.hash, ruleSetHash: plan.ruleSet.hash });
    const edge = join(out, "platform/edge");
    const health = JSON.parse(readFileSync(join(edge, "health-request.json"), "utf8")) as Any;
    const model = "line-defects";

    // serve, as the platform's own configuration
    const served = await serve(["--config", join(edge, "serve.yaml")]);
    let expected: Any;
    try {
      const res = await fetch(`${served.url}/v2/models/${model}/infer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(health),
      });
      expect(res.status).toBe(200);
      expected = (await res.json()) as Any;
    } finally {
      await served.stop();
    }

    // bundled, signed, verified
    const bundle = join(out, "bundle");
    expect(
      runCli([
        "edge",
        "bundle",
        "--from",
        edge,
        "--out",
        bundle,
        "--name",
        model,
        "--bundle-version",
        "1.0.0",
        "--key",
        join(out, "fleet.key"),
      ]).code,
    ).toBe(0);
    expect(runCli(["edge", "verify", bundle, "--key", join(out, "fleet.pub")]).code).toBe(0);

    // edge run, as JSON lines on stdin (it keeps running: stopped once it answered)
    const run = runCliAsync(
      [
        "edge",
        "run",
        bundle,
        "--key",
        join(out, "fleet.pub"),
        "--state",
        mkdtempSync(join(tmpdir(), "sw-e-")),
      ],
      {
        input: `${JSON.stringify(health)}\n`,
        timeoutMs: 15_000,
      },
    );
    const result = await run;
    const line = result.stdout.trim().split("\n")[0];
    expect(line, result.stderr).toBeTruthy();
    expect((JSON.parse(line) as Any).outputs).toEqual(expected.outputs);

    // the Node entry, in this process
    const { open } = (await import(pathToFileURL(join(edge, "embedded.mjs")).href)) as Any;
    const embedded = await open(bundle, { publicKeyPem: keys.publicKeyPem });
    try {
      expect((await embedded.infer(health)).outputs).toEqual(expected.outputs);
    } finally {
      await embedded.close();
    }

    // the browser entry on onnxruntime-web's WebAssembly backend, under Node
    const { loadModel } = (await import(pathToFileURL(join(edge, "browser.mjs")).href)) as Any;
    const wasm = await loadModel(readFileSync(join(edge, "models", model, "1", "model.onnx")));
    try {
      const answer = (await wasm.infer(health)) as Any;
      const [output] = answer.outputs as Any[];
      expect(output.name).toBe(expected.outputs[0].name);
      expect(output.shape).toEqual(expected.outputs[0].shape);
      expect(output.data[0]).toBeCloseTo(expected.outputs[0].data[0], 5);
    } finally {
      await wasm.release();
    }
  }, 120_000);

  it("the rollout's rings come from the plan: canary devices, one site, the fleet, each gated", async () => {
    const plan = await planOf("line-defects");
    const files = Object.fromEntries(Object.entries(generateAll(plan)).map(([k, v]) => [k, String(v)]));
    const rollout = parseYaml(files["platform/edge/rollout.yaml"]) as Any;
    expect(rollout.rings.map((r: Any) => [r.name, r.devices])).toEqual([
      ["canary", 2],
      ["site", 10],
      ["fleet", 40],
    ]);
    expect(rollout.rings[0].gate.maxP99Ms).toBe(plan.requirements.inference.latencyP99Ms);
    // the cloud side on AWS: the stores, identities and release role; no chart and no deploy workflow
    expect(
      Object.keys(files)
        .filter((f) => f.startsWith("infra/terraform/aws/"))
        .sort(),
    ).toEqual(
      [
        "bundles.tf",
        "devices.tf",
        "main.tf",
        "outputs.tf",
        "providers.tf",
        "release.tf",
        "telemetry.tf",
        "variables.tf",
        "versions.tf",
      ].map((f) => `infra/terraform/aws/${f}`),
    );
    expect(Object.keys(files).filter((f) => f.startsWith("deploy/"))).toEqual([]);
    expect(files[".github/workflows/deploy.yml"]).toBeUndefined();
    expect(files[".github/workflows/edge-release.yml"]).toContain("edge promote");
    expect(files["platform/README.md"]).toContain("## The cloud side (`infra/terraform/aws/`)");
    // the Terraform's lock and lifecycle follow the retention the cost assumes
    expect(files["infra/terraform/aws/bundles.tf"]).toMatch(/mode = "GOVERNANCE"\n\s+days = 365/);
    expect(files["infra/terraform/aws/telemetry.tf"]).toMatch(/expiration \{\n\s+days = 90/);
  });
});
