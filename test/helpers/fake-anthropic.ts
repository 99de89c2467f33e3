/**
 * A local HTTP server on 127.0.0.1 that speaks the Anthropic Messages API (POST /v1/messages) with
 * scripted answers: the only mock in the suite, standing in for the one edge no machine here reaches.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface ScriptedReply {
  status?: number;
  /** assistant text; ignored when status is not 200 */
  text?: string;
  delayMs?: number;
}

export interface Exchange {
  prompt: string;
  system: string;
  status: number;
}

export interface FakeAnthropic {
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

/** `reply` sees the user prompt and the number of earlier requests with the same prompt. */
export async function startFakeAnthropic(
  reply: (prompt: string, attempt: number) => ScriptedReply,
): Promise<FakeAnthropic> {
  const exchanges: Exchange[] = [];
  const attempts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      const request = JSON.parse(body) as {
        system?: Array<{ text: string }>;
        messages: Array<{ content: Array<{ type: string; text: string }> }>;
      };
      const prompt = request.messages.map((m) => m.content.map((c) => c.text).join("")).join("\n");
      const system = (request.system ?? []).map((s) => s.text).join("");
      const attempt = attempts.get(prompt) ?? 0;
      attempts.set(prompt, attempt + 1);
      const scripted = reply(prompt, attempt);
      const status = scripted.status ?? 200;
      exchanges.push({ prompt, system, status });
      const send = () => {
        if (res.destroyed) return;
        res.setHeader("content-type", "application/json");
        res.statusCode = status;
        if (status !== 200) {
          if (status === 429) res.setHeader("retry-after-ms", "50");
          res.end(
            JSON.stringify({
              type: "error",
              error: { type: status === 429 ? "rate_limit_error" : "api_error", message: "scripted" },
            }),
          );
          return;
        }
        res.end(
          JSON.stringify({
            id: `msg_${exchanges.length}`,
            type: "message",
            role: "assistant",
            model: "claude-sonnet-4-5",
            content: [{ type: "text", text: scripted.text ?? "" }],
            stop_reason: "end_turn",
            stop_sequence: null,
            usage: {
              input_tokens: Math.ceil(prompt.length / 4),
              output_tokens: Math.ceil((scripted.text ?? "").length / 4),
            },
          }),
        );
      };
      if (scripted.delayMs) setTimeout(send, scripted.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The allowed choices an open-choice prompt lists ("Pick exactly one of: a, b."). */
export function allowedIn(prompt: string): string[] {
  const match = /Pick exactly one of: ([^\n]+)\./.exec(prompt);
  return match ? match[1].split(", ") : [];
}
