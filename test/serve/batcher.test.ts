import { describe, expect, it } from "vitest";
import { Batcher, QueueFullError } from "../../src/serve/batcher.js";
import type { Executor } from "../../src/serve/execution.js";
import type { WireTensor } from "../../src/serve/ort-session.js";

/** An executor that doubles its input and takes `ms` per batch, recording the rows of each batch. */
function slowDoubler(ms: number): Executor & { batches: number[] } {
  const batches: number[] = [];
  return {
    placement: "workers",
    concurrency: 1,
    batches,
    async run(feeds: Record<string, WireTensor>) {
      const input = feeds.x;
      batches.push(input.dims[0]);
      await new Promise((r) => setTimeout(r, ms));
      const data = new Float32Array(input.buffer).map((v) => v * 2);
      return { y: { type: "float32", dims: input.dims, buffer: data.buffer } };
    },
    close: async () => {},
  };
}

const row = (v: number) => ({ x: { type: "float32", rowDims: [1], data: [v] } });
const firstValue = (out: Record<string, { buffer: ArrayBuffer; offset: number }>) =>
  new Float32Array(out.y.buffer)[out.y.offset];

/** Batching options of these tests: batching on, and what each test varies. */
const options = (maxBatchSize: number, maxQueueDelayMs: number, maxQueue: number) => ({
  enabled: true,
  maxBatchSize,
  maxQueueDelayMs,
  maxQueue,
});

describe("Batcher", () => {
  it("splits a batch's outputs back to each request exactly", async () => {
    const executor = slowDoubler(5);
    const batcher = new Batcher(executor, options(8, 2, 100));
    const answers = await Promise.all([1, 2, 3, 4, 5].map((v) => batcher.submit(1, row(v), 1000)));
    expect(answers.map(firstValue)).toEqual([2, 4, 6, 8, 10]);
    // the first runs alone on an idle executor, the rest gather behind it
    expect(executor.batches).toEqual([1, 4]);
  });

  it("fails requests past their deadline and does not run the queued ones nobody waits for", async () => {
    const executor = slowDoubler(120);
    const batcher = new Batcher(executor, options(1, 0, 100));
    const results = await Promise.allSettled([1, 2, 3].map((v) => batcher.submit(1, row(v), 40)));
    // all three miss 40 ms: the first is running (a session cannot be interrupted), two are queued
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(String((results[0] as PromiseRejectedResult).reason)).toContain("no answer within 40 ms");
    await new Promise((r) => setTimeout(r, 200));
    expect(executor.batches).toEqual([1]);
    expect(batcher.idle()).toBe(true);
    // a request without a deadline after that is answered normally
    expect(firstValue(await batcher.submit(1, row(7)))).toBe(14);
  });

  it("an answer after the deadline is a failure even when the run blocks the event loop past it", async () => {
    // a version placed on the event loop runs synchronously: no timer can fire until it returns
    const blocking: Executor = {
      placement: "event-loop",
      concurrency: 1,
      async run(feeds: Record<string, WireTensor>) {
        const until = Date.now() + 30;
        while (Date.now() < until) {
          // busy: the sweep timer cannot run
        }
        return { y: { type: "float32", dims: feeds.x.dims, buffer: feeds.x.buffer } };
      },
      close: async () => {},
    };
    const batcher = new Batcher(blocking, options(1, 0, 100));
    await expect(batcher.submit(1, row(1), 5)).rejects.toThrow("no answer within 5 ms");
    // without a deadline the same run answers
    expect(firstValue(await batcher.submit(1, row(3)))).toBe(3);
  });

  it("refuses at once when the queue is full, and drain refuses what is queued", async () => {
    const batcher = new Batcher(slowDoubler(50), options(1, 0, 1));
    const first = batcher.submit(1, row(1), 1000); // runs at once on the idle executor
    const second = batcher.submit(1, row(2), 1000); // the one queued row maxQueue allows
    await expect(batcher.submit(1, row(3), 1000)).rejects.toBeInstanceOf(QueueFullError);
    batcher.drain(new Error("shutting down"));
    await expect(second).rejects.toThrow("shutting down");
    expect(firstValue(await first)).toBe(2);
  });
});
