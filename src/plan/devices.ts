/**
 * One device of an edge or embedded plan, sized from its class's figures (rules/models.yaml devices,
 * each measured or estimated, with its source): how long one request takes there at FP32, how much
 * memory the serving core needs with the model at FP32 and quantized to int8 (the runtime's own
 * memory measured in bench/edge/memory-bench.js), and whether either fits the memory the spec gives.
 */
import type { ModelCatalog } from "../engine/index.js";
import type { ModeInputSpec } from "../requirements/index.js";

export interface DeviceFit {
  hardware: string;
  title: string;
  gflops: number;
  measured: boolean;
  accelerator: "none" | "cuda";
  source: string;
  basis: string;
  /** one request's model time on the device at FP32, ms */
  latencyMs: number;
  /** the serving core's memory with the model at FP32 and at int8, MB */
  memoryMbFp32: number;
  memoryMbInt8: number;
  memoryMb: number;
  fitsFp32: boolean;
  fitsInt8: boolean;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

export function deviceFit(
  spec: ModeInputSpec,
  models: ModelCatalog,
  flopsPerRequest: number,
  parametersMillions: number,
): DeviceFit | null {
  if (!spec.edge) return null;
  const device = models.devices[spec.edge.hardware];
  const runtime = models.deviceRuntime;
  // FP32 weights: 4 bytes a parameter; int8: one
  const modelMb = (parametersMillions * 1e6 * 4) / 1_048_576;
  const memory = (mb: number) => round1(runtime.baseMb + runtime.mbPerModelMb * mb);
  const memoryMbFp32 = memory(modelMb);
  const memoryMbInt8 = memory(modelMb / 4);
  return {
    hardware: spec.edge.hardware,
    title: device.title,
    gflops: device.gflops,
    measured: device.measured,
    accelerator: device.accelerator,
    source: device.source,
    basis: device.basis,
    latencyMs: round1((flopsPerRequest / (device.gflops * 1e9)) * 1000),
    memoryMbFp32,
    memoryMbInt8,
    memoryMb: spec.edge.memoryMb,
    fitsFp32: memoryMbFp32 <= spec.edge.memoryMb,
    fitsInt8: memoryMbInt8 <= spec.edge.memoryMb,
  };
}
