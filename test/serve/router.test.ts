import { describe, expect, it } from "vitest";
import {
  chooseVersion,
  type Routable,
  type Routes,
  setVersions,
  stickyBucket,
} from "../../src/serve/router.js";

type V = Routable & { id: string };
const v = (id: string, stage: "production" | "sample" | "staging" | "archived", extra: object = {}): V => ({
  id,
  source: { meta: { stage, ...extra } },
});
const routesOf = (...versions: V[]): Routes<V> => {
  const routes: Routes<V> = { versions: new Map(), shadows: [] };
  setVersions(routes, new Map(versions.map((x) => [x.id, x])));
  return routes;
};

describe("routing among a model's versions", () => {
  it("a sample answers until a production version exists, and before a staging one", () => {
    expect(routesOf(v("1", "sample"), v("2", "staging")).primary?.id).toBe("1");
    expect(routesOf(v("1", "sample"), v("2", "production"), v("3", "sample")).primary?.id).toBe("2");
  });

  it("derives the roles: newest production is primary, else newest not archived; newest staging; shadows", () => {
    const r = routesOf(
      v("1", "production"),
      v("2", "production"),
      v("3", "staging"),
      v("4", "archived", { shadow: true }),
    );
    expect([r.primary?.id, r.staging?.id, r.shadows.map((s) => s.id)]).toEqual(["2", "3", ["4"]]);
    const onlyStaging = routesOf(v("1", "archived"), v("2", "staging"));
    expect(onlyStaging.primary?.id).toBe("2");
    // the staging version is the primary here, so there is no canary to split off
    expect(chooseVersion(onlyStaging, 50, "k")?.id).toBe("2");
    expect(chooseVersion(routesOf(v("1", "archived")), 0, undefined)).toBeUndefined();
  });

  it("splits by the canary weight, sticky per key, with run-time > model.yaml > config precedence", () => {
    const keys = Array.from({ length: 4000 }, (_, i) => `user-${i}`);
    const share = (r: Routes<V>, configured: number) =>
      keys.filter((k) => chooseVersion(r, configured, k)?.id === "2").length / keys.length;
    const r = routesOf(v("1", "production"), v("2", "staging"));
    expect(share(r, 0)).toBe(0);
    expect(share(r, 30)).toBeGreaterThan(0.27);
    expect(share(r, 30)).toBeLessThan(0.33);
    for (const k of keys.slice(0, 50)) expect(chooseVersion(r, 30, k)).toBe(chooseVersion(r, 30, k));
    const withMeta = routesOf(v("1", "production"), v("2", "staging", { canaryWeight: 80 }));
    expect(share(withMeta, 10)).toBeGreaterThan(0.77);
    withMeta.canaryWeight = 0;
    expect(share(withMeta, 10)).toBe(0);
    expect(stickyBucket("user-1")).toBe(stickyBucket("user-1"));
    expect(stickyBucket("user-1")).toBeLessThan(100);
  });
});
