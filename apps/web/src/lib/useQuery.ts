"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError } from "./errors";
import { gql } from "./gql";

/** Loads a GraphQL query; `reload()` refetches; `pollMs` refetches while `poll` is true. */
export function useQuery<T>(query: string, variables: Record<string, unknown> = {}, opts: { pollMs?: number; poll?: boolean; skip?: boolean } = {}) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(!opts.skip);
  const key = JSON.stringify(variables);
  const seq = useRef(0);
  const inFlight = useRef(0);

  const reload = useCallback(async ({ background = false } = {}) => {
    const mine = ++seq.current;
    inFlight.current++;
    try {
      const d = await gql<T>(query, JSON.parse(key), { background });
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
  }, [query, key]);

  useEffect(() => {
    if (opts.skip) return;
    setLoading(true);
    void reload();
  }, [reload, opts.skip]);

  useEffect(() => {
    if (!opts.pollMs || !opts.poll || opts.skip) return;
    // A poll is skipped while a request is still out: on a slow server, polls would otherwise
    // pile up, each one adding load to what made the last one slow.
    const t = setInterval(() => {
      if (inFlight.current === 0) void reload({ background: true });
    }, opts.pollMs);
    return () => clearInterval(t);
  }, [opts.pollMs, opts.poll, opts.skip, reload]);

  return { data, error, loading, reload, setData };
}
