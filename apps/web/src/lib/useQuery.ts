"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError } from "./errors";
import { gql } from "./gql";

/**
 * Loads through `load` (one GraphQL query, or several requests); `reload()` loads again. Only
 * the latest load's answer is kept, whatever order the answers arrive in.
 */
export function useLoader<T>(load: (opts: { background: boolean }) => Promise<T>, { skip = false } = {}) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(!skip);
  const seq = useRef(0);
  const inFlight = useRef(0);

  const reload = useCallback(
    async ({ background = false } = {}) => {
      const mine = ++seq.current;
      inFlight.current++;
      try {
        const d = await load({ background });
        if (mine === seq.current) {
          setData(d);
          setError(null);
        }
      } catch (e) {
        if (mine === seq.current) setError(describeError(e));
      } finally {
        inFlight.current--;
        if (mine === seq.current) setLoading(false);
      }
    },
    [load],
  );

  useEffect(() => {
    if (skip) return;
    setLoading(true);
    void reload();
  }, [reload, skip]);

  return { data, error, loading, reload, setData, inFlight };
}

/** Loads a GraphQL query; `reload()` refetches; `pollMs` refetches while `poll` is true. */
export function useQuery<T>(query: string, variables: Record<string, unknown> = {}, opts: { pollMs?: number; poll?: boolean; skip?: boolean } = {}) {
  const key = JSON.stringify(variables);
  const load = useCallback(({ background }: { background: boolean }) => gql<T>(query, JSON.parse(key), { background }), [query, key]);
  const { inFlight, ...state } = useLoader(load, { skip: opts.skip });
  const { reload } = state;

  useEffect(() => {
    if (!opts.pollMs || !opts.poll || opts.skip) return;
    // A poll is skipped while a request is still out: on a slow server, polls would otherwise
    // pile up, each one adding load to what made the last one slow.
    const t = setInterval(() => {
      if (inFlight.current === 0) void reload({ background: true });
    }, opts.pollMs);
    return () => clearInterval(t);
  }, [opts.pollMs, opts.poll, opts.skip, reload, inFlight]);

  return state;
}
