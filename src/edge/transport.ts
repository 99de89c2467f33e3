/**
 * How a device reaches the cloud, and the release commands the stores:
 * - http(s):// is fetched (telemetry posted with an optional bearer token);
 * - s3:// goes through the AWS SDK, signed with the device's own temporary credentials from its AWS
 *   IoT identity (src/edge/identity.ts), or the environment's for the release commands;
 * - az://<account>/<container>/<key> is read by a device with the fleet's read-only SAS from its
 *   IoT Hub identity; the release commands read, write and list it through @azure/storage-blob;
 * - iothub://<hub host>/<name> is written by a device through its hub's file upload
 *   (src/edge/iothub.ts), filed by the hub as `<device ID>/<name>`.
 * The runner, the telemetry uploader and the release commands see one interface: read a URL (null
 * when nothing is there), write one object, list what is under a prefix.
 */

import type { ObjectStore, StoreAccess } from "../serve/object-store.js";
import { formatLocation, parseLocation } from "../util/object-location.js";
import { HttpStatusError } from "./http-call.js";
import { type DeviceIdentity, hubHost, iotCredentials } from "./identity.js";
import { azureDevice } from "./iothub.js";

export { HttpStatusError } from "./http-call.js";

export interface Transport {
  /** the object or document at the URL; null when there is none (404) */
  read(url: string): Promise<Buffer | null>;
  /** puts one object (s3://, az://, iothub://) or posts one document (http: with the idempotency key as a header) */
  write(url: string, body: string | Buffer, idempotencyKey?: string): Promise<void>;
  /** the keys under an s3:// or az:// prefix, as URLs */
  list(url: string): Promise<string[]>;
  /** the folders directly under an az:// prefix, as URLs ending in "/" */
  folders(url: string): Promise<string[]>;
}

export interface TransportOptions {
  /** the device's identity: s3:// URLs are signed with its credentials, az:// read with its SAS, iothub:// its hub */
  identity?: DeviceIdentity;
  /** bearer token for http(s) writes */
  token?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** An object store location (one object per key), not an http(s) endpoint documents are posted to. */
export function isObjectUrl(url: string): boolean {
  return /^(s3|az|iothub):\/\//i.test(url);
}

export const isHubUrl = (url: string) => /^iothub:\/\//i.test(url);

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
  const access: StoreAccess =
    o.identity?.provider === "aws-iot"
      ? {
          credentials: iotCredentials(o.identity),
          region: o.identity.region,
          endpoint: o.identity.s3Endpoint,
        }
      : {};
  // a device under an IoT Hub identity reads az:// with its SAS and writes only through its own hub
  const azure = o.identity?.provider === "azure-iot-hub" ? azureDevice(o.identity) : undefined;
  const host = o.identity?.provider === "azure-iot-hub" ? hubHost(o.identity) : undefined;
  const hub = (url: string) => {
    if (!azure)
      throw new Error(`${url}: iothub:// is written under a device's IoT Hub identity (--identity)`);
    if (new URL(url).host !== host) throw new Error(`${url}: this device's hub is ${host}`);
    return azure;
  };
  const storeOf = (url: string) => {
    const loc = parseLocation(url)!;
    const name = `${loc.scheme}://${loc.account ?? ""}/${loc.bucket}`;
    let store = stores.get(name);
    if (!store) {
      store = import("../serve/object-store.js").then((m) =>
        m.openObjectStore(loc, o.env ?? process.env, access),
      );
      stores.set(name, store);
    }
    return { store, key: decodeURIComponent(loc.key), loc };
  };
  const timeout = o.timeoutMs ?? 60_000;
  return {
    async read(url) {
      if (isHubUrl(url)) throw new Error(`${url}: an IoT Hub takes uploads; it is not read`);
      if (azure && /^az:\/\//i.test(url)) return azure.read(parseLocation(url)!);
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
        throw new HttpStatusError(url, response.status);
      }
      return Buffer.from(await response.arrayBuffer());
    },
    async write(url, body, idempotencyKey) {
      const data = typeof body === "string" ? Buffer.from(body) : body;
      if (isHubUrl(url)) return hub(url).upload(decodeURIComponent(new URL(url).pathname.slice(1)), data);
      if (azure)
        throw new Error(`${url}: a device under an IoT Hub identity writes through its hub (iothub://)`);
      if (isObjectUrl(url)) {
        const { store, key } = storeOf(url);
        await (await store).put(key, data);
        return;
      }
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
          ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
        },
        body: new Uint8Array(data),
        signal: AbortSignal.timeout(timeout),
      });
      await response.body?.cancel();
      if (!response.ok) throw new HttpStatusError(url, response.status);
    },
    async list(url) {
      if (!/^(s3|az):\/\//i.test(url))
        throw new Error(`${url}: only s3:// and az:// locations can be listed`);
      const { store, key, loc } = storeOf(url);
      return (await (await store).list(key)).map((k) => formatLocation(loc, k));
    },
    async folders(url) {
      const { store, key, loc } = storeOf(url);
      const s = await store;
      if (!s.folders) throw new Error(`${url}: only az:// locations are listed by folder`);
      return (await s.folders(key && asPrefix(key))).map((k) => formatLocation(loc, k));
    },
  };
}
