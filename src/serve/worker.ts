/**
 * Inference off the event loop: each worker thread owns ONNX Runtime sessions (one per loaded model
 * version) and runs them; tensors travel as transferable ArrayBuffers.
 */
import { parentPort } from "node:worker_threads";
import { metaOf, openSession, runSession, type Session, type WireTensor } from "./ort-session.js";

export type WorkerRequest =
  | { op: "load"; id: number; key: string; bytes: ArrayBuffer; providers: string[]; threads: number }
  | { op: "run"; id: number; key: string; feeds: Record<string, WireTensor> }
  | { op: "unload"; id: number; key: string };

const sessions = new Map<string, Session>();

parentPort?.on("message", async (message: WorkerRequest) => {
  try {
    if (message.op === "load") {
      const session = await openSession(new Uint8Array(message.bytes), message.providers, message.threads);
      await sessions.get(message.key)?.release();
      sessions.set(message.key, session);
      parentPort?.postMessage({ id: message.id, ok: true, ...metaOf(session) });
    } else if (message.op === "unload") {
      await sessions.get(message.key)?.release();
      sessions.delete(message.key);
      parentPort?.postMessage({ id: message.id, ok: true });
    } else {
      const session = sessions.get(message.key);
      if (!session) throw new Error(`model version ${message.key} is not loaded in this worker`);
      const outputs = await runSession(session, message.feeds, true);
      parentPort?.postMessage(
        { id: message.id, ok: true, outputs },
        Object.values(outputs).map((o) => o.buffer),
      );
    }
  } catch (error) {
    parentPort?.postMessage({ id: message.id, ok: false, error: (error as Error).message });
  }
});
