/** Dockerfiles: pinned base images (no :latest, no untagged), named stages, and a non-root final user. */
import { type FileSet, textEntries } from "../fileset/index.js";
import type { ValidationProblem } from "./types.js";

export function validateDockerfiles(files: FileSet): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const [path, text] of textEntries(files)) {
    if (!/(^|\/)Dockerfile(\.[\w-]+)?$/.test(path)) continue;
    const lines = text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    const stages: Array<{ from: string; user?: string }> = [];
    for (const line of lines) {
      const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
      if (from) {
        const image = from[1];
        if (!image.includes(":") || image.endsWith(":latest"))
          problems.push({
            file: path,
            message: `base image ${image} is not pinned to a version`,
            validator: "dockerfile",
          });
        stages.push({ from: image });
        continue;
      }
      const user = /^USER\s+(\S+)$/i.exec(line);
      if (user && stages.length) stages[stages.length - 1].user = user[1];
      if (
        !/^(FROM|RUN|COPY|ADD|ENV|WORKDIR|USER|EXPOSE|CMD|ENTRYPOINT|HEALTHCHECK|ARG|LABEL)\b/i.test(line)
      ) {
        problems.push({
          file: path,
          message: `unknown instruction: ${line.split(/\s+/)[0]}`,
          validator: "dockerfile",
        });
      }
    }
    if (stages.length < 2)
      problems.push({ file: path, message: "expected a multi-stage build", validator: "dockerfile" });
    const final = stages.at(-1);
    if (!final?.user || /^(0|root)(:|$)/.test(final.user))
      problems.push({
        file: path,
        message: "the final stage must run as a non-root USER",
        validator: "dockerfile",
      });
  }
  return problems;
}
