/** The inference flags that serve, score and consume share. */
import { Option } from "commander";

export const DEVICES = ["auto", "cpu", "webgpu", "cuda"] as const;

/** --device; `fallback` is the default where the command has one (serve takes its config's) */
export function deviceOption(fallback?: (typeof DEVICES)[number]): Option {
  const option = new Option("--device <device>", "execution provider: auto tries cuda, webgpu, cpu").choices(
    DEVICES,
  );
  return fallback ? option.default(fallback) : option;
}

/** --workers; the default differs: latency-minded serving vs throughput-minded scoring */
export function workersOption(byDefault = "one per two cores, two ONNX Runtime threads each"): Option {
  return new Option("--workers <n>", `inference worker threads (default: ${byDefault})`).argParser((v) =>
    Number(v),
  );
}
