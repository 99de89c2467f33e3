// What the serving benchmarks share: their flags, the request, the load generator (autocannon in its own
// process), a free loopback port, and a process's CPU time from /proc.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The value after `--name` on the command line, if given. */
export const flag = (name) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined;

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** The OIP request every serving bench sends: one FP32 row of `width` values, sin(0..width-1). */
export const inferBody = (width) =>
  JSON.stringify({
    inputs: [
      {
        name: "input",
        shape: [1, width],
        datatype: "FP32",
        data: Array.from({ length: width }, (_, i) => Math.sin(i)),
      },
    ],
  });

/** autocannon against `url` (POST with a JSON `body`, else GET): rate, latency and counts. */
export function autocannon(url, body, connections, seconds) {
  return new Promise((resolve, reject) => {
    const args = [
      `${root}node_modules/autocannon/autocannon.js`,
      "-c",
      String(connections),
      "-d",
      String(seconds),
      "-j",
      "-m",
      body ? "POST" : "GET",
    ];
    if (body) args.push("-H", "content-type=application/json", "-b", body);
    args.push(url);
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.on("close", () => {
      try {
        const r = JSON.parse(out);
        resolve({
          reqPerSec: Math.round(r.requests.average),
          p50Ms: r.latency.p50,
          p99Ms: r.latency.p99,
          non2xx: r.non2xx,
          requests: r.requests.total,
          statusCodes: r.statusCodeStats ?? {},
          errors: r.errors,
        });
      } catch (e) {
        reject(new Error(`autocannon output: ${out.slice(0, 300)} ${e}`));
      }
    });
  });
}

let clockTicks;

/** CPU seconds a process (all its threads) has used, from /proc (Linux; elsewhere undefined). */
export function cpuSeconds(pid) {
  clockTicks ??= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout) || 100;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}
