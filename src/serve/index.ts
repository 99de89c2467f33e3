export { OBJECT_STORE_SCHEMES, type ObjectLocation, parseLocation } from "../util/object-location.js";
export { Batcher, QueueFullError } from "./batcher.js";
export { CircuitBreaker } from "./breaker.js";
export { LruCache } from "./cache.js";
export { DEVICES, type ModelMeta, modelMetaSchema, type ServeConfig, serveConfigSchema } from "./config.js";
export { type ConsumeSummary, consume } from "./consume.js";
export { binOf, DriftMonitor, PSI_EPSILON, psi, referenceFrom } from "./drift.js";
export {
  FeatureFileError,
  type FeatureStore,
  MemoryFeatureStore,
  openFeatureStore,
  RedisFeatureStore,
} from "./features.js";
export { buildMlp, seededRandom } from "./onnx-build.js";
export {
  RegistryError,
  scanModel,
  scanRegistry,
  singleFile,
  sourcesFromConfig,
  type VersionSource,
} from "./registry.js";
export { primaryVersion } from "./router.js";
export { OUTPUT_FORMATS, type OutputFormat, parseShard, type ScoreSummary, score } from "./score.js";
export { pushScoreMetrics, SCORE_PUSH_JOB } from "./score-metrics.js";
export { type RemoteScoreOptions, scoreAnywhere } from "./score-remote.js";
export { type ServeOptions, ServingCore, startServing } from "./server.js";
export { decodeEvent, openSink, openSource, parseStreamUrl, streamNameFor } from "./stream.js";
export { type RegistryWatcher, watchRegistry } from "./watch.js";
