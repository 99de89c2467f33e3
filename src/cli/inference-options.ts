/** The inference flags that serve, score and consume share. */
import { Option } from "commander";
import { DEVICES, PLACEMENTS } from "../serve/config.js";

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

/** --placement: where serve runs each model version's batches (serve.yaml placement) */
export function placementOption(): Option {
  return new Option(
    "--placement <where>",
    "where batches run: auto measures a full batch on the event loop against a worker round trip per model version",
  ).choices(PLACEMENTS);
}
