import { describe, expect, it } from "vitest";
import { type Connection, loadWindow, OPEN, OPEN_STATUSES, statusFilter } from "./worklistWindow";

interface Row {
  id: string;
  priority: number; // higher first, as the API sorts STAT > URGENT > ROUTINE
  seq: number; // creation order: oldest first within a priority
}

/** The API's cases(first, after) over `rows`: sorted now, the page after the cursor row's place now. */
function server(rows: Row[]) {
  const calls: { first: number; after: string | null }[] = [];
  const fetchPage = async (first: number, after: string | null): Promise<Connection<Row>> => {
    calls.push({ first, after });
    const sorted = [...rows].sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    const start = after === null ? 0 : sorted.findIndex((r) => r.id === after) + 1;
    const nodes = sorted.slice(start, start + first);
    return { nodes, pageInfo: { endCursor: nodes.at(-1)?.id ?? null, hasNextPage: start + first < sorted.length } };
  };
  return { fetchPage, calls };
}

const routine = (n: number): Row[] => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, priority: 0, seq: i }));

describe("loadWindow", () => {
  it("reads a window within one page in one request", async () => {
    const { fetchPage, calls } = server(routine(60));
    const w = await loadWindow(50, 200, fetchPage);
    expect(w.nodes.map((r) => r.id)).toEqual(routine(50).map((r) => r.id));
    expect(w.hasNextPage).toBe(true);
    expect(calls).toEqual([{ first: 50, after: null }]);
  });

  it("reads a window past the API's page limit as pages, each after the last row of the one before", async () => {
    const { fetchPage, calls } = server(routine(260));
    const w = await loadWindow(250, 200, fetchPage);
    expect(w.nodes).toHaveLength(250);
    expect(w.hasNextPage).toBe(true);
    expect(calls).toEqual([
      { first: 200, after: null },
      { first: 50, after: "r199" },
    ]);
  });

  it("says there is nothing further when the list ends inside the window", async () => {
    const { fetchPage, calls } = server(routine(230));
    const w = await loadWindow(250, 200, fetchPage);
    expect(w.nodes).toHaveLength(230);
    expect(w.hasNextPage).toBe(false);
    expect(calls).toHaveLength(2);
    expect((await loadWindow(50, 200, server([]).fetchPage)).hasNextPage).toBe(false);
  });

  it("loses no row past the first page when a new STAT case arrives (the row at the old page limit stays)", async () => {
    const rows = routine(260);
    const { fetchPage } = server(rows);
    const before = await loadWindow(250, 200, fetchPage);
    expect(before.nodes.map((r) => r.id)).toContain("r199");
    rows.push({ id: "stat", priority: 2, seq: 1000 });
    const after = await loadWindow(250, 200, fetchPage);
    // The new case on top, then the same rows in the same order: the last one is pushed behind
    // "Show more", none from the middle of the list goes missing.
    expect(after.nodes.map((r) => r.id)).toEqual(["stat", ...before.nodes.slice(0, 249).map((r) => r.id)]);
    expect(after.nodes.map((r) => r.id)).toContain("r199");
    expect(after.hasNextPage).toBe(true);
  });

  it("keeps a row once when it moves into a later page while the pages are read", async () => {
    const rows: Row[] = [{ id: "u", priority: 1, seq: 0 }, ...routine(9)];
    const { fetchPage: read } = server(rows);
    // Between the two reads the urgent case is made routine (its priority edited): it sorts last
    // and the second page brings it again.
    const fetchPage = async (first: number, after: string | null) => {
      const page = await read(first, after);
      if (after === null) rows[0] = { id: "u", priority: 0, seq: 100 };
      return page;
    };
    const w = await loadWindow(11, 5, fetchPage);
    expect(w.nodes.map((r) => r.id)).toEqual(["u", "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"]);
    expect(w.hasNextPage).toBe(false);
  });
});

describe("the status filter", () => {
  it("defaults to the open statuses: what is not signed", () => {
    expect(OPEN_STATUSES).toEqual(["RECEIVED", "ANALYZING", "IN_REVIEW"]);
    expect(statusFilter(OPEN)).toEqual({ status: ["RECEIVED", "ANALYZING", "IN_REVIEW"] });
  });

  it("All sends no status; one status sends that one", () => {
    expect(statusFilter("")).toEqual({});
    expect(statusFilter("SIGNED_OUT")).toEqual({ status: ["SIGNED_OUT"] });
  });
});
