// `npm start` with the demo's published passwords stays on loopback unless told explicitly.
import { describe, expect, it } from "vitest";
import { demoNetworkRefusal, isLoopbackBind } from "./demoNetwork.ts";

describe("demoNetworkRefusal", () => {
  it("refuses the demo (embedded database or RCMNET_DEMO=1) on a non-loopback API_HOST or WEB_HOST", () => {
    for (const demo of [{}, { DATABASE_URL: "postgresql://db/rcmnet", RCMNET_DEMO: "1" }, { DATABASE_URL: "" }]) {
      for (const hosts of [{ API_HOST: "0.0.0.0" }, { WEB_HOST: "0.0.0.0" }, { WEB_HOST: "::" }, { API_HOST: "10.0.0.5" }, { WEB_HOST: "rcmnet.lan" }, { WEB_HOST: "" }]) {
        const message = demoNetworkRefusal({ ...demo, ...hosts });
        expect(message, JSON.stringify({ ...demo, ...hosts })).toMatch(/^refusing to serve the demo to the network: (API|WEB)_HOST=.* RCMNET_DEMO_ON_NETWORK=1/);
      }
    }
    expect(demoNetworkRefusal({ API_HOST: "0.0.0.0", WEB_HOST: "0.0.0.0" })).toMatch(/API_HOST="0.0.0.0" and WEB_HOST="0.0.0.0"/);
    // Only exactly 1 says so.
    expect(demoNetworkRefusal({ WEB_HOST: "0.0.0.0", RCMNET_DEMO_ON_NETWORK: "true" })).not.toBeNull();
  });

  it("lets the demo start on loopback, or on the network when RCMNET_DEMO_ON_NETWORK=1", () => {
    for (const hosts of [{}, { API_HOST: "127.0.0.1", WEB_HOST: "127.0.0.1" }, { API_HOST: "localhost" }, { WEB_HOST: "::1" }, { WEB_HOST: "127.0.0.2" }]) {
      expect(demoNetworkRefusal(hosts), JSON.stringify(hosts)).toBeNull();
    }
    expect(demoNetworkRefusal({ API_HOST: "0.0.0.0", WEB_HOST: "0.0.0.0", RCMNET_DEMO_ON_NETWORK: "1" })).toBeNull();
  });

  it("does not concern an install on your own PostgreSQL without the demo", () => {
    expect(demoNetworkRefusal({ DATABASE_URL: "postgresql://db/rcmnet", API_HOST: "0.0.0.0", WEB_HOST: "0.0.0.0" })).toBeNull();
    expect(demoNetworkRefusal({ DATABASE_URL: "postgresql://db/rcmnet", RCMNET_DEMO: "0", WEB_HOST: "0.0.0.0" })).toBeNull();
  });

  it("knows loopback listen addresses", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]"]) expect(isLoopbackBind(h), h).toBe(true);
    for (const h of ["0.0.0.0", "::", "", "10.0.0.5", "128.0.0.1", "127.0.0.1.example", "rcmnet.lan"]) expect(isLoopbackBind(h), h).toBe(false);
  });
});
