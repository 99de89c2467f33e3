/**
 * Azurite, the Azure Storage emulator (a devDependency), as the tests run it: the Blob service on a
 * free loopback port, in memory, over HTTP or (given a certificate) HTTPS.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./cli.js";

/** Azurite's development account and its published key (the storage emulator's well-known credentials). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
export const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface Azurite {
  /** the account's Blob endpoint, by path: <scheme>://127.0.0.1:<port>/devstoreaccount1 */
  endpoint: string;
  /** host:port */
  host: string;
  stop(): void;
}

export async function startAzurite(cwd: string, tls?: { cert: string; key: string }): Promise<Azurite> {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "node_modules/azurite/dist/src/blob/main.js"),
      "--inMemoryPersistence",
      "--extentMemoryLimit",
      "256",
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      "0",
      "--skipApiVersionCheck",
      ...(tls ? ["--cert", tls.cert, "--key", tls.key] : []),
    ],
    { cwd, stdio: ["ignore", "pipe", "pipe"] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`azurite did not start: ${seen}`)), 30_000);
    child.stdout!.setEncoding("utf8").on("data", (d: string) => {
      seen += d;
      const m = /listens on (https?:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => reject(new Error(`azurite exited ${code}: ${seen}`)));
  });
  return { endpoint: `${url}/${AZURITE_ACCOUNT}`, host: new URL(url).host, stop: () => child.kill() };
}
