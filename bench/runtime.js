// Every benchmark runs on the Node the project supports (package.json engines; the `node`
// devDependency pins it, and `npm run bench` puts it first on PATH). A run on an older system Node
// measures a runtime nobody deploys: its JSON parser alone took 2.4x as long for the serving
// benchmark's 256-float request body (Node 20: 16.6 us, Node 24: 6.9 us on the build machine).
import { readFileSync } from "node:fs";

const root = new URL("..", import.meta.url);
const { engines } = JSON.parse(readFileSync(new URL("package.json", root), "utf8"));
const floor = /^>=(\d+)\.(\d+)/.exec(engines?.node ?? "");
if (!floor) throw new Error(`bench/runtime.js reads engines.node as ">=MAJOR.MINOR", got ${engines?.node}`);
const [major, minor] = process.versions.node.split(".").map(Number);
const [needMajor, needMinor] = [Number(floor[1]), Number(floor[2])];
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  process.stderr.write(
    `Node ${process.version} is older than the ${engines.node} this project supports (package.json engines).\n` +
      "Run the benchmarks on the pinned Node: npm run bench, or npx node bench/<area>/<bench>.js\n",
  );
  process.exit(2);
}
