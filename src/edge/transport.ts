/**
 * How a device reaches the cloud: an http(s):// URL is fetched (telemetry posted with an optional
 * bearer token), an s3:// URL goes through the AWS SDK, signed with the device's own temporary
 * credentials (src/edge/identity.ts). The runner, the telemetry uploader and the release commands see
 * one interface: read a URL (null when nothing is there) and write one object.
 */

import type { ObjectStore, StoreAccess } from "../serve/object-store.js";
import { formatLocation, parseLocation } from "../util/object-location.js";
import { type DeviceIdentity, iotCredentials } from "./identity.js";

export interface Transport {
  /** the object or document at the URL; null when there is none (404) */
  read(url: string): Promise<Buffer | null>;
  /** puts one object (s3://) or posts one document (http: with the idempotency key as a header) */
  write(url: string, body: string | Buffer, idempotencyKey?: string): Promise<void>;
  /** the keys under an s3:// prefix, as URLs */
  list(url: string): Promise<string[]>;
}

export interface TransportOptions {
  /** the device's identity: s3:// URLs are signed with its credentials */
  identity?: DeviceIdentity;
  /** bearer token for http(s) writes */
  token?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function isObjectUrl(url: string): boolean {
  return /^s3:\/\//i.test(url);
}

/** A location as a prefix: what lies under it is named relative to it. */
export function asPrefix(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

/** Resolves a relative reference (a channel's `../bundles/1.2.0/`) against an http(s) or s3 URL. */
export function resolveUrl(ref: string, base: string): string {
  return new URL(ref, base).href;
}

export function transport(o: TransportOptions = {}): Transport {
  const stores = new Map<string, Promise<ObjectStore>>();
  const access: StoreAccess = o.identity
    ? {
        credentials: iotCredentials(o.identity),
        region: o.identity.region,
        endpoint: o.identity.s3Endpoint,
      }
    : {};
  const storeOf = (url: string) => {
    const loc = parseLocation(url)!;
    let store = stores.get(loc.bucket);
    if (!store) {
      store = import("../serve/object-store.js").then((m) =>
        m.openObjectStore(loc, o.env ?? process.env, access),
      );
      stores.set(loc.bucket, store);
    }
    return { store, key: decodeURIComponent(loc.key), loc };
  };
  const timeout = o.timeoutMs ?? 60_000;
  return {
    async read(url) {
      if (isObjectUrl(url)) {
        const { store, key } = storeOf(url);
        const data = await (await store).find(key);
        return data ? Buffer.from(data) : null;
      }
      const response = await fetch(url, { signal: AbortSignal.timeout(timeout) });
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`${url} answered ${response.status}`);
      }
      return Buffer.from(await response.arrayBuffer());
    },
    async write(url, body, idempotencyKey) {
      if (isObjectUrl(url)) {
        const { store, key } = storeOf(url);
        await (await store).put(key, typeof body === "string" ? Buffer.from(body) : body);
        return;
      }
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        },
        body: typeof body === "string" ? body : new Uint8Array(body),
        signal: AbortSignal.timeout(timeout),
      });
      await response.body?.cancel();
      if (!response.ok) throw new HttpStatusError(url, response.status);
    },
    async list(url) {
      if (!isObjectUrl(url)) throw new Error(`${url}: only s3:// locations can be listed`);
      const { store, key, loc } = storeOf(url);
      return (await (await store).list(key)).map((k) => formatLocation(loc, k));
    },
  };
}

/** A server that answered, with a status that is not 2xx. */
export class HttpStatusError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(`${url} answered ${status}`);
  }
}
