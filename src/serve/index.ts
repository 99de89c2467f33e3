export { Batcher, QueueFullError } from "./batcher.js";
export { CircuitBreaker, LruCache } from "./breaker.js";
export { DEVICES, type ModelMeta, modelMetaSchema, type ServeConfig, serveConfigSchema } from "./config.js";
export { binOf, DriftMonitor, PSI_EPSILON, psi, referenceFrom } from "./drift.js";
export { MemoryFeatureStore, RedisFeatureStore } from "./features.js";
export { buildMlp, seededRandom } from "./onnx-build.js";
export { RegistryError, scanModel, scanRegistry, singleFile, type VersionSource } from "./registry.js";
export { OUTPUT_FORMATS, type OutputFormat, parseShard, type ScoreSummary, score } from "./score.js";
export { type ServeOptions, ServingCore, startServing } from "./server.js";
