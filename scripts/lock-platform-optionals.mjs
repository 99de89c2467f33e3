#!/usr/bin/env node
// The package registry this project is built against mirrors only the linux-x64 builds of some
// packages that ship one optional package per platform (@biomejs/cli-*, @duckdb/node-bindings-*).
// `npm install` then leaves those optional entries out of package-lock.json, and `npm ci` refuses a
// lock file that does not list every optional dependency. This script adds the missing entries with
// their os/cpu/libc constraints (read from the package name), so `npm ci` skips them on linux-x64 and
// fetches them from the public registry on other platforms. Run it after `npm install`.
import { readFileSync, writeFileSync } from "node:fs";

const lockPath = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, "utf8"));
const osNames = { android: "android", darwin: "darwin", linux: "linux", win32: "win32" };
let added = 0;
for (const entry of Object.values(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (lock.packages[key]) continue;
    const parts = dep.split("/").pop().split("-");
    const os = parts.find((p) => p in osNames);
    const cpu = parts.find((p) => ["x64", "arm64", "ia32", "arm"].includes(p));
    if (!os || !cpu) throw new Error(`cannot tell the platform of optional dependency ${dep}`);
    const platform = { version, cpu: [cpu], os: [os], optional: true };
    if (parts.includes("musl")) platform.libc = ["musl"];
    else if (os === "linux") platform.libc = ["glibc"];
    lock.packages[key] = platform;
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform-specific optional entries`);
