import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { writeOrWait } from "./writeStream.ts";

/** A client that takes a chunk only when told to. */
function slowClient() {
  const pending: (() => void)[] = [];
  const received: string[] = [];
  const out = new Writable({
    highWaterMark: 4,
    write(chunk, _enc, callback) {
      received.push(String(chunk));
      pending.push(callback);
    },
  });
  return { out, received, readOne: () => pending.shift()?.() };
}

describe("writeOrWait", () => {
  it("waits while the client is behind, and continues when it drains", async () => {
    const { out, received, readOne } = slowClient();
    let settled = false;
    const write = writeOrWait(out, "0123456789").then((ok) => ((settled = true), ok));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    readOne();
    expect(await write).toBe(true);
    expect(received).toEqual(["0123456789"]);
  });

  it("answers false once the client has gone, also while waiting", async () => {
    const { out } = slowClient();
    const write = writeOrWait(out, "0123456789");
    out.destroy();
    expect(await write).toBe(false);
    expect(await writeOrWait(out, "more")).toBe(false);
  });

  it("cuts off a client that reads nothing for the stall time", async () => {
    const { out } = slowClient();
    const started = Date.now();
    expect(await writeOrWait(out, "0123456789", 50)).toBe(false);
    expect(out.destroyed).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("waits for a slow client that keeps reading, past the stall time", async () => {
    const { out, readOne } = slowClient();
    // Ten small chunks queued; the client takes one every 30 ms, slower than the whole stall time of 100 ms.
    for (let i = 0; i < 9; i++) out.write(String(i));
    const reader = setInterval(readOne, 30);
    try {
      expect(await writeOrWait(out, "last", 100)).toBe(true);
    } finally {
      clearInterval(reader);
    }
    expect(out.destroyed).toBe(false);
  });
});
