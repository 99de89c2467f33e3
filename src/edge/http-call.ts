/**
 * One HTTP(S) request a device makes with node:http(s) (where fetch cannot: a client certificate, the
 * roots it trusts), answered as a status and a whole body; and the error for an answer that is not the
 * one asked for, whatever the store (the telemetry uploader reads its status to keep a batch on disk).
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface Answer {
  status: number;
  body: Buffer;
}

export interface CallOptions {
  method: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** the client certificate and key (mutual TLS), the roots trusted; https only */
  tls?: { cert?: Buffer; key?: Buffer; ca?: Buffer };
  timeoutMs?: number;
}

export function call(url: URL, o: CallOptions): Promise<Answer> {
  const timeout = o.timeoutMs ?? 30_000;
  return new Promise((done, fail) => {
    const send = url.protocol === "http:" ? httpRequest : httpsRequest;
    const req = send(
      url,
      {
        method: o.method,
        headers: { ...o.headers, ...(o.body ? { "content-length": String(o.body.length) } : {}) },
        ...(url.protocol === "https:" ? o.tls : {}),
        timeout,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on("error", fail);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${url.host} did not answer in ${timeout / 1000} s`)));
    req.on("error", fail);
    req.end(o.body);
  });
}

/** A server that answered, with a status that is not the one asked for. */
export class HttpStatusError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    detail = "",
  ) {
    super(`${url} answered ${status}${detail ? `: ${detail.slice(0, 200)}` : ""}`);
  }
}
