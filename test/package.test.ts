/**
 * The package as users get it: `npm pack` of this repository installs in an empty directory (with
 * ONNXRUNTIME_NODE_INSTALL=skip) and runs every command; and the generated image's layout works:
 * a root laid out exactly as the Dockerfile's runtime stage says (WORKDIR, COPY, USER) runs its
 * ENTRYPOINT + CMD, absolute paths as written, in a private mount namespace, and answers a prediction.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, expect } from "vitest";
import { engineArgs } from "../src/generate/engine-deploy.js";
import { generateAll } from "../src/generate/index.js";
import { planSpecFile } from "../src/plan/index.js";
import { buildMlp } from "../src/serve/onnx-build.js";
import { writeFileSet } from "../src/write/index.js";
import { ROOT } from "./helpers/cli.js";
import { onDeviceExample } from "./helpers/plans.js";
import { describeWith, itWith, tool } from "./helpers/tools.js";
import { grpcCall, grpcClient, grpcOk } from "./serve/grpc-client.js";
import { freePort, post } from "./serve/helpers.js";

const NODE = process.execPath;
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip", npm_config_loglevel: "error", NO_COLOR: "1" };

describeWith(["npm"], "the packed package", () => {
  let installed: string;
  let cli: string;
  let tarball: string;
  beforeAll(() => {
    const packs = mkdtempSync(join(tmpdir(), "sw-pack-"));
    // dist/ is built by the test command; --ignore-scripts packs it as it is
    const name = execFileSync(
      tool("npm"),
      ["pack", "--ignore-scripts", "--pack-destination", packs, "--silent"],
      {
        cwd: ROOT,
        env,
        encoding: "utf8",
      },
    )
      .trim()
      .split("\n")
      .pop() as string;
    tarball = join(packs, name);
    installed = mkdtempSync(join(tmpdir(), "sw-installed-"));
    writeFileSync(join(installed, "package.json"), '{"name":"uses-stackwright","private":true}\n');
    execFileSync(tool("npm"), ["install", "--no-audit", "--no-fund", "--silent", join(packs, name)], {
      cwd: installed,
      env,
      stdio: "pipe",
    });
    cli = join(installed, "node_modules/stackwright/bin/stackwright.js");
  }, 300_000);

  const run = (args: string[], cwd = installed) =>
    spawnSync(NODE, [cli, ...args], { cwd, env, encoding: "utf8", timeout: 120_000 });

  itWith(["npm"], "installs from the tarball and runs every command, from the package's own files", () => {
    const help = run(["--help"]);
    expect(help.status, help.stderr).toBe(0);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) /gm)]
      .map((m) => m[1])
      .filter((c) => c !== "help");
    expect(commands.length).toBeGreaterThan(12);
    for (const command of commands) {
      const result = run([command, "--help"]);
      expect(result.status, `${command} --help: ${result.stderr}`).toBe(0);
    }
    // the edge subcommands too (the release workflow runs publish and promote from the package)
    const edgeHelp = run(["edge", "--help"]).stdout;
    const edgeCommands = [...edgeHelp.matchAll(/^ {2}([a-z]+) /gm)]
      .map((m) => m[1])
      .filter((c) => c !== "help");
    expect(edgeCommands).toEqual(
      expect.arrayContaining(["keygen", "bundle", "verify", "run", "publish", "promote", "status"]),
    );
    for (const command of edgeCommands) {
      const result = run(["edge", command, "--help"]);
      expect(result.status, `edge ${command} --help: ${result.stderr}`).toBe(0);
    }
    // and a bundle signed and verified by the package's own files
    const keys = join(installed, "edge-keys");
    expect(run(["edge", "keygen", "--out", keys]).status).toBe(0);
    const from = join(installed, "edge-src");
    mkdirSync(join(from, "models"), { recursive: true });
    writeFileSync(join(from, "serve.yaml"), "models: []\n");
    const signed = run([
      "edge",
      "bundle",
      "--from",
      from,
      "--out",
      join(installed, "edge-bundle"),
      "--name",
      "pkg",
      "--bundle-version",
      "1.0.0",
      "--sequence",
      "1",
      "--key",
      join(keys, "edge-signing.key"),
    ]);
    expect(signed.status, signed.stderr).toBe(0);
    const verified = run([
      "edge",
      "verify",
      join(installed, "edge-bundle"),
      "--key",
      join(keys, "edge-signing.pub"),
    ]);
    expect(verified.status, verified.stderr).toBe(0);
    const example = join(installed, "node_modules/stackwright/examples/fraud-detection.yaml");
    expect(run(["plan", "--spec", example, "--format", "json"]).status).toBe(0);
    expect(run(["validate", "--spec", example]).status).toBe(0);
    expect(run(["explain", "serving.mode", "--spec", example]).status).toBe(0);
    expect(run(["diff", "--spec", example, "--set", "inference.latencyP99Ms=10"]).status).toBe(0);
    expect(run(["rules", "lint"]).status).toBe(0);
    expect(JSON.parse(run(["schema"]).stdout).title).toContain("stackwright");
    const generated = run(["generate", "--spec", example, "--out", join(installed, "out")]);
    expect(generated.status, generated.stderr).toBe(0);
    // inside a project: the image and CI install what the project's package.json pins (here, the tarball)
    expect(generated.stdout).toMatch(
      /the image and CI install file:.*stackwright-[\d.]+\.tgz \(from .*package\.json/,
    );
    // the library's public API resolves from the installed package
    const api = spawnSync(
      NODE,
      [
        "--input-type=module",
        "-e",
        'const m = await import("stackwright"); console.log(typeof m.createPlan)',
      ],
      {
        cwd: installed,
        env,
        encoding: "utf8",
      },
    );
    expect(api.stdout.trim(), api.stderr).toBe("function");
  });

  itWith(
    ["npm"],
    "calibrate measures a model, and serve answers gRPC from the protocol files the package ships",
    async () => {
      const model = join(installed, "model.onnx");
      writeFileSync(model, buildMlp({ layers: [4, 8, 1], seed: 3 }));
      const calibrated = run([
        "calibrate",
        "--model",
        model,
        "--batch-sizes",
        "1,8",
        "--seconds-per-batch",
        "0.05",
        "-o",
        join(installed, "calibration.json"),
      ]);
      expect(calibrated.status, calibrated.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(installed, "calibration.json"), "utf8")).batches).toHaveLength(2);
      const grpcPort = await freePort();
      const served = spawn(
        NODE,
        [
          cli,
          "serve",
          "--model",
          `m=${model}`,
          "--port",
          "0",
          "--grpc-port",
          String(grpcPort),
          "--device",
          "cpu",
        ],
        { cwd: installed, env },
      );
      try {
        let stderr = "";
        served.stderr.on("data", (d) => {
          stderr += d;
        });
        for (let i = 0; i < 300 && !stderr.includes("and gRPC") && served.exitCode === null; i++)
          await new Promise((r) => setTimeout(r, 100));
        expect(stderr, "serve --grpc-port from the installed package").toContain(
          `and gRPC 127.0.0.1:${grpcPort}`,
        );
        const live = await grpcOk(grpcCall(grpcClient(`127.0.0.1:${grpcPort}`), "ServerLive", {}));
        expect(live).toEqual({ live: true });
      } finally {
        served.kill("SIGTERM");
      }
    },
    120_000,
  );

  itWith(["npm"], "the package source follows the project's pin, and --package overrides it", () => {
    const project = mkdtempSync(join(tmpdir(), "sw-project-"));
    writeFileSync(
      join(project, "package.json"),
      '{"name":"platform","devDependencies":{"stackwright":"~0.1.0"}}\n',
    );
    const example = join(installed, "node_modules/stackwright/examples/demand-forecasting.yaml");
    expect(run(["generate", "--spec", example, "--out", "out"], project).status).toBe(0);
    expect(readFileSync(join(project, "out/platform/Dockerfile"), "utf8")).toContain(
      "ARG STACKWRIGHT_PACKAGE=stackwright@~0.1.0",
    );
    expect(readFileSync(join(project, "out/.github/workflows/ci.yml"), "utf8")).toContain(
      '--package "stackwright@~0.1.0"',
    );
    expect(
      run(
        ["generate", "--spec", example, "--out", "tarball", "--package", "./stackwright-0.1.0.tgz"],
        project,
      ).status,
    ).toBe(0);
    expect(readFileSync(join(project, "tarball/platform/Dockerfile"), "utf8")).toContain(
      "ARG STACKWRIGHT_PACKAGE=./stackwright-0.1.0.tgz",
    );
  });

  /**
   * The Dockerfile's build stage as written: its context (platform/) with the tarball copied in, its
   * WORKDIR, and its RUN line in a shell with STACKWRIGHT_PACKAGE set as `--build-arg` would;
   * returns the directory whose node_modules the runtime stage copies. Run once: the stage is the
   * same for every spec.
   */
  let built: string | undefined;
  const buildStage = (platformDir: string, dockerfile: string): string => {
    if (built) return built;
    const stage = dockerfile.slice(0, dockerfile.lastIndexOf("\nFROM "));
    expect(stage).toMatch(/^ARG STACKWRIGHT_PACKAGE=/m);
    expect(stage).toMatch(/^COPY \. \.$/m);
    const runLine = /^RUN (.+)$/m.exec(stage)?.[1] as string;
    const context = mkdtempSync(join(tmpdir(), "sw-build-"));
    cpSync(platformDir, context, { recursive: true });
    cpSync(tarball, join(context, "stackwright.tgz"));
    execFileSync("sh", ["-ec", runLine], {
      cwd: context,
      env: { ...env, STACKWRIGHT_PACKAGE: "./stackwright.tgz" },
      stdio: "pipe",
    });
    built = context;
    return context;
  };

  itWith(
    ["npm"],
    "the generated CI step that regenerates and compares runs, from the package a project pins",
    () => {
      const project = mkdtempSync(join(tmpdir(), "sw-ci-"));
      writeFileSync(
        join(project, "package.json"),
        JSON.stringify({ name: "platform", devDependencies: { stackwright: `file:${tarball}` } }),
      );
      cpSync(join(ROOT, "examples/fraud-detection.yaml"), join(project, "stackwright.yaml"));
      expect(run(["generate", "--spec", "stackwright.yaml", "--out", "."], project).status).toBe(0);
      const ci = readFileSync(join(project, ".github/workflows/ci.yml"), "utf8");
      const step = /run: (npx --yes --package .* stackwright generate .*)$/m.exec(ci)?.[1];
      expect(step, "ci.yml has the regenerate step").toBeDefined();
      // the step as the workflow runs it: YAML-unquoted, in the repository root
      const command = (step as string).replace(/^'(.*)'$/, "$1").replace(/''/g, "'");
      // npx installs the package (this run's tarball, a new path each run) into its own cache: the
      // entry it adds is removed after, or every run leaves a copy of the package and its dependencies
      const npx = join(
        execFileSync("npm", ["config", "get", "cache"], { env, encoding: "utf8" }).trim(),
        "_npx",
      );
      const entries = () => new Set(existsSync(npx) ? readdirSync(npx) : []);
      const before = entries();
      let result: ReturnType<typeof spawnSync>;
      try {
        result = spawnSync("sh", ["-ec", command], { cwd: project, env, encoding: "utf8", timeout: 180_000 });
      } finally {
        for (const entry of entries())
          if (!before.has(entry)) rmSync(join(npx, entry), { recursive: true, force: true });
      }
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout).toContain("up to date");
    },
    240_000,
  );

  const rootOk = process.getuid?.() === 0;
  // an on-device example's tree has no image: its bundle runs on devices (test/edge/)
  const examples = readdirSync(join(ROOT, "examples"))
    .filter((f) => f.endsWith(".yaml") && !onDeviceExample(f))
    .sort();
  for (const example of examples)
    itWith(
      ["npm", "unshare"],
      `${example}: the image layout runs its ENTRYPOINT + CMD and answers a prediction${rootOk ? "" : " (needs root for mount namespaces)"}`,
      async () => {
        if (!rootOk) throw new Error("mount namespaces need root here; run as root (CI does)");
        const { plan } = await planSpecFile(join(ROOT, "examples", example));
        const out = mkdtempSync(join(tmpdir(), "sw-image-"));
        writeFileSet(out, generateAll(plan), { specHash: plan.spec.hash, ruleSetHash: plan.ruleSet.hash });
        const engine = engineArgs(plan);
        if (engine) {
          // an LLM engine's plan builds no image: its chart runs the engine's own (engines.test.ts)
          expect(existsSync(join(out, "platform/Dockerfile"))).toBe(false);
          expect(
            readFileSync(join(out, `deploy/helm/${plan.requirements.metadata.name}/values.yaml`), "utf8"),
          ).toContain(`repository: ${engine.engine.image.repository}`);
          return;
        }
        const dockerfile = readFileSync(join(out, "platform/Dockerfile"), "utf8");
        const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
        const json = (instruction: string) =>
          JSON.parse(new RegExp(`^${instruction} (\\[.*\\])$`, "m").exec(runtime)?.[1] ?? "[]") as string[];
        const workdir = /^WORKDIR (\S+)$/m.exec(runtime)?.[1] ?? "/";
        const user = /^USER (\d+):(\d+)$/m.exec(runtime);
        // the image's root, laid out from the COPY lines; --from=build is what the build stage's RUN installed
        const image = mkdtempSync(join(tmpdir(), "sw-rootfs-"));
        const copies: Array<[string, string]> = [];
        for (const [, from, src, dest] of runtime.matchAll(/^COPY (--from=\S+ )?(\S+) (\S+)$/gm)) {
          const source = from
            ? join(buildStage(join(out, "platform"), dockerfile), "node_modules")
            : join(out, "platform", src);
          const target = join(image, dest);
          mkdirSync(dirname(target), { recursive: true });
          cpSync(source, target, { recursive: true });
          copies.push([src, dest]);
        }
        expect(copies.map(([, dest]) => dest)).toEqual([
          "/app/node_modules",
          "/srv/platform/serve.yaml",
          "/srv/platform/models",
          "/srv/platform/features",
        ]);
        for (const dir of [image, ...readdirSync(image).map((d) => join(image, d))]) chmodSync(dir, 0o755);
        // port 0: the server takes a free port and logs its URL (a port chosen here first could be
        // taken by another test's server before this one binds it)
        const command = [...json("ENTRYPOINT"), ...json("CMD"), "--port", "0"];
        // a new root: the host's system directories bound read-only, the image's directories at their
        // absolute paths, Node 24 (the one this suite runs on) at /opt/node; the command runs in WORKDIR as USER
        const script = [
          "set -e",
          'R="$1"; IMAGE="$2"; NODE_BIN="$3"; shift 3',
          "mount --make-rprivate /",
          'mount -t tmpfs tmpfs "$R"',
          "for d in usr lib lib64 lib32 bin sbin etc dev proc sys tmp; do",
          '  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$R/$d"; elif [ -d "/$d" ]; then mkdir -p "$R/$d"; mount --rbind "/$d" "$R/$d"; fi',
          "done",
          'for d in "$IMAGE"/*; do mkdir -p "$R/${d##*/}"; mount --bind "$d" "$R/${d##*/}"; done',
          'mkdir -p "$R/opt/node/bin"; touch "$R/opt/node/bin/node"; mount --bind "$NODE_BIN" "$R/opt/node/bin/node"',
          `exec chroot ${user ? `--userspec=${user[1]}:${user[2]} ` : ""}"$R" /usr/bin/env PATH=/opt/node/bin:/usr/bin:/bin HOME=/tmp sh -c 'cd "$0" && exec "$@"' ${JSON.stringify(workdir)} "$@"`,
        ].join("\n");
        const newRoot = mkdtempSync(join(tmpdir(), "sw-newroot-"));
        const child = spawn(
          tool("unshare"),
          ["-m", "sh", "-c", script, "sh", newRoot, image, NODE, ...command],
          { env: {} },
        );
        let stderr = "";
        child.stderr.on("data", (d) => {
          stderr += d;
        });
        const exited = new Promise((r) => child.once("exit", r));
        try {
          let url = "";
          let ready = false;
          for (let i = 0; i < 300 && !ready && child.exitCode === null; i++) {
            await new Promise((r) => setTimeout(r, 100));
            url ||= /listening on (http:\/\/[^\s]+)/.exec(stderr)?.[1] ?? "";
            if (url)
              ready = await fetch(`${url}/v2/health/ready`).then(
                (r) => r.ok,
                () => false,
              );
          }
          expect(ready, `the image's command did not become ready: ${stderr}`).toBe(true);
          // the declared features with their declared types
          const fields = plan.requirements.features.fields.length
            ? plan.requirements.features.fields
            : Array.from({ length: 8 }, (_, i) => ({ name: `f${i}`, type: "float" }));
          const features = Object.fromEntries(
            fields.map((f, i) => [f.name, f.type === "bool" ? i % 2 === 0 : f.type === "int" ? i : 0.5]),
          );
          const answer = await post(`${url}/v1/predictions`, {
            model_id: plan.requirements.metadata.name,
            features,
          });
          expect(answer.status, JSON.stringify(answer.body)).toBe(200);
          expect(stderr).toContain("a SAMPLE model");
        } finally {
          // a child that already exited (it failed to start) has no exit to wait for
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          await exited;
        }
      },
      120_000,
    );
});
