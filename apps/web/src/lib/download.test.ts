import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("./gql", () => ({ leaveEndedSession: vi.fn() }));

import { ApiError } from "./errors";
import { leaveEndedSession } from "./gql";
import { DownloadCancelled, type DownloadProgress, downloadFrom, formatBytes } from "./download";

const bytes = (s: string) => new TextEncoder().encode(s);

/** What the page handed to the browser to save: the link clicked and the file behind it. */
let saved: { name: string; blob: Blob }[];
let blobs: Map<string, Blob>;
/** The init of the last fetch (its signal, aborted when the download stops). */
let lastInit: RequestInit | undefined;

function stubFetch(answer: (init?: RequestInit) => Promise<Response> | Response) {
  vi.stubGlobal(
    "fetch",
    vi.fn(async (_url: string, init?: RequestInit) => {
      lastInit = init;
      return answer(init);
    }),
  );
}

/** A body that sends `chunks`, then either ends or (open) waits for ever, as a stalled stream does. */
function body(chunks: string[], { open = false, onCancel }: { open?: boolean; onCancel?: () => void } = {}) {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < chunks.length) c.enqueue(bytes(chunks[i++]!));
      else if (!open) c.close();
      else return new Promise<void>(() => {});
    },
    cancel: onCancel,
  });
}

const csvHeaders = {
  "content-type": "text/csv",
  "content-disposition": 'attachment; filename="audit-trail-x.csv"',
  "x-audit-chain": "intact",
};

beforeEach(() => {
  saved = [];
  blobs = new Map();
  lastInit = undefined;
  vi.stubGlobal("document", {
    createElement: () => {
      const a = {
        href: "",
        download: "",
        click: () => saved.push({ name: a.download, blob: blobs.get(a.href)! }),
        remove: () => {},
      };
      return a;
    },
    body: { appendChild: () => {} },
  });
  vi.spyOn(URL, "createObjectURL").mockImplementation((blob) => {
    const href = `blob:test/${blobs.size}`;
    blobs.set(href, blob as Blob);
    return href;
  });
  vi.spyOn(URL, "revokeObjectURL").mockImplementation(() => {});
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("downloadFrom", () => {
  it("reads the body chunk by chunk, tells each, and saves the whole file under the server's name", async () => {
    stubFetch(
      () =>
        new Response(body(["seq,at\r\n", "1,x\r\n", "2,y\r\n"]), {
          headers: { ...csvHeaders, "content-length": "20" },
        }),
    );
    const seen: Omit<DownloadProgress, "chunk">[] = [];
    const headers = await downloadFrom("/api/audit.csv", "fallback.csv", {
      onProgress: ({ received, total }) => seen.push({ received, total }),
    });
    expect(seen).toEqual([
      { received: 0, total: 20 },
      { received: 8, total: 20 },
      { received: 13, total: 20 },
      { received: 18, total: 20 },
    ]);
    expect(headers?.get("x-audit-chain")).toBe("intact");
    expect(saved).toHaveLength(1);
    expect(saved[0]!.name).toBe("audit-trail-x.csv");
    expect(await saved[0]!.blob.text()).toBe("seq,at\r\n1,x\r\n2,y\r\n");
  });

  it("states no total when the response does not, and falls back to the given name", async () => {
    stubFetch(() => new Response(body(["abc"]), { headers: { "content-type": "text/csv" } }));
    const seen: (number | null)[] = [];
    await downloadFrom("/f", "fallback.csv", { onProgress: (p) => seen.push(p.total) });
    expect(seen).toEqual([null, null]);
    expect(saved[0]!.name).toBe("fallback.csv");
  });

  it("stops when cancelled part-way: nothing is saved, the request and its body are ended", async () => {
    const onCancel = vi.fn();
    stubFetch(
      () => new Response(body(["seq,at\r\n", "1,x\r\n"], { open: true, onCancel }), { headers: csvHeaders }),
    );
    const user = new AbortController();
    const received: number[] = [];
    const done = downloadFrom("/api/audit.csv", "a.csv", {
      signal: user.signal,
      what: "export",
      onProgress: (p) => {
        received.push(p.received);
        if (p.received === 13) user.abort();
      },
    });
    await expect(done).rejects.toBeInstanceOf(DownloadCancelled);
    await expect(done).rejects.toThrow("The export was cancelled; nothing was saved.");
    expect(received).toEqual([0, 8, 13]);
    expect(saved).toEqual([]);
    expect(URL.createObjectURL).not.toHaveBeenCalled();
    expect(lastInit?.signal?.aborted).toBe(true);
    await vi.waitFor(() => expect(onCancel).toHaveBeenCalled());
  });

  it("stops when cancelled before the server answers", async () => {
    stubFetch(
      (init) =>
        new Promise<Response>((_, reject) =>
          init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))),
        ),
    );
    const user = new AbortController();
    const done = downloadFrom("/api/audit.csv", "a.csv", { signal: user.signal });
    await Promise.resolve();
    user.abort();
    await expect(done).rejects.toThrow("The download was cancelled; nothing was saved.");
    expect(saved).toEqual([]);
  });

  it("does not start when already cancelled", async () => {
    stubFetch(() => new Response("x"));
    const user = new AbortController();
    user.abort();
    await expect(downloadFrom("/f", "f", { signal: user.signal })).rejects.toBeInstanceOf(DownloadCancelled);
    expect(fetch).not.toHaveBeenCalled();
  });

  it("gives a stalled stream up after the idle time: a clear error, nothing saved", async () => {
    vi.useFakeTimers();
    const onCancel = vi.fn();
    stubFetch(
      () => new Response(body(["seq,at\r\n", "1,x\r\n"], { open: true, onCancel }), { headers: csvHeaders }),
    );
    const done = downloadFrom("/api/audit.csv", "a.csv", { what: "export" });
    const outcome = done.then(
      () => null,
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(29_000);
    expect(await Promise.race([outcome, "pending"])).toBe("pending");
    await vi.advanceTimersByTimeAsync(1_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(ApiError);
    expect((error as Error).message).toBe(
      "The export stalled: nothing arrived for 30 s after 13 B, so it was stopped; nothing was saved. Try again; tell your administrator if it keeps happening.",
    );
    expect(saved).toEqual([]);
    expect(lastInit?.signal?.aborted).toBe(true);
    await vi.waitFor(() => expect(onCancel).toHaveBeenCalled());
  });

  it("waits out a slow stream that keeps sending: the time limit is between chunks, not on the whole", async () => {
    vi.useFakeTimers();
    let i = 0;
    const slow = new ReadableStream<Uint8Array>({
      pull: (c) =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            if (i++ < 3) c.enqueue(bytes("row\r\n"));
            else c.close();
            resolve();
          }, 20_000),
        ),
    });
    stubFetch(() => new Response(slow, { headers: csvHeaders }));
    const done = downloadFrom("/api/audit.csv", "a.csv", { idleMs: 30_000 });
    await vi.advanceTimersByTimeAsync(80_000);
    await expect(done).resolves.toBeInstanceOf(Headers);
    expect(await saved[0]!.blob.text()).toBe("row\r\nrow\r\nrow\r\n");
  });

  it("gives up a server that never starts answering, after the start time", async () => {
    vi.useFakeTimers();
    stubFetch(() => new Promise<Response>(() => {}));
    const done = downloadFrom("/api/audit.csv", "a.csv", { what: "export", startMs: 5_000 });
    const outcome = done.then(
      () => null,
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(5_000);
    expect(((await outcome) as Error).message).toMatch(
      /^The export did not start: the server sent nothing for 5 s, so it was stopped; nothing was saved\./,
    );
    expect(lastInit?.signal?.aborted).toBe(true);
  });

  it("does not save a body cut off part-way, and says so", async () => {
    let n = 0;
    const broken = new ReadableStream<Uint8Array>({
      pull(c) {
        if (n++ === 0) c.enqueue(bytes("seq,at\r\n"));
        else c.error(new TypeError("terminated"));
      },
    });
    stubFetch(() => new Response(broken, { headers: csvHeaders }));
    await expect(downloadFrom("/api/audit.csv", "a.csv", { what: "export" })).rejects.toThrow(
      "The export was cut off after 8 B (the connection or the server failed); nothing was saved.",
    );
    expect(saved).toEqual([]);
  });

  it("tells the API's refusal, hides a proxy's page, and sends an ended session to sign in", async () => {
    stubFetch(
      () =>
        new Response(
          JSON.stringify({
            errors: [{ message: "No export was made.", extensions: { code: "UNAVAILABLE" } }],
          }),
          { status: 502, headers: { "content-type": "application/json" } },
        ),
    );
    await expect(downloadFrom("/f", "f")).rejects.toThrow("No export was made.");
    stubFetch(
      () => new Response("<html>nginx</html>", { status: 504, headers: { "content-type": "text/html" } }),
    );
    await expect(downloadFrom("/f", "f")).rejects.toThrow(/\(HTTP 504\)$/);
    stubFetch(
      () =>
        new Response(
          JSON.stringify({
            errors: [{ message: "ended", extensions: { code: "UNAUTHENTICATED", reason: "idle" } }],
          }),
          { status: 401, headers: { "content-type": "application/json" } },
        ),
    );
    await expect(downloadFrom("/f", "f")).resolves.toBeNull();
    expect(leaveEndedSession).toHaveBeenCalledWith("idle");
    expect(saved).toEqual([]);
  });
});

describe("formatBytes", () => {
  it("says a size in B, kB, MB and GB", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(48_200)).toBe("48.2 kB");
    expect(formatBytes(12_400_000)).toBe("12.4 MB");
    expect(formatBytes(250_000_000)).toBe("250 MB");
    expect(formatBytes(3_100_000_000)).toBe("3.1 GB");
  });
});
