export { type AdvisedPlan, planWithAdvisor } from "./advisor.js";
export { type AskResult, extractJson, LlmClient } from "./client.js";
export * from "./config.js";
export { type DraftResult, draftSpec, toYaml } from "./draft.js";
export { readLlmRecords, writeLlmRecords } from "./lock.js";
export { adrNarratives, type Narrative, type NarrativeResult } from "./narrative.js";
export { type LlmRecord, RecordStore, recordKey } from "./records.js";
export { formatReview, type Review, reviewPlan } from "./review.js";
