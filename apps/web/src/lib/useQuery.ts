"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import { describeError } from "./errors";
import { gql } from "./gql";

/**
 * Loads through `load` (one GraphQL query, or several requests); `reload()` loads again. Only
 * the latest load's answer is kept, whatever order the answers arrive in.
 */
export function useLoader<T>(
  load: (opts: { background: boolean }) => Promise<T>,
  /** resetKey: what makes the last answer not this one's (a filter); by default any change of `load`. */
  { skip = false, resetKey }: { skip?: boolean; resetKey?: string } = {},
) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(!skip);
  const seq = useRef(0);
  /** Loads not answered yet, and when the latest began. */
  const inFlight = useRef({ count: 0, since: 0 });

  const reload = useCallback(
    /** fresh: a load for other variables (a changed filter); see the catch below. */
    async ({ background = false, fresh = false } = {}) => {
      const mine = ++seq.current;
      inFlight.current = { count: inFlight.current.count + 1, since: Date.now() };
      try {
        const d = await load({ background });
        if (mine === seq.current) {
          setData(d);
          setError(null);
        }
      } catch (e) {
        if (mine === seq.current) {
          setError(describeError(e));
          // The last filter's rows must not stand under the new filter as if they answered it.
          if (fresh) setData(null);
        }
      } finally {
        inFlight.current = { ...inFlight.current, count: inFlight.current.count - 1 };
        if (mine === seq.current) setLoading(false);
      }
    },
    [load],
  );

  // New variables (a changed filter, another case): the last answer is not this one's, so it is
  // not shown while this one loads (an export or an edit would act on what the table shows).
  // More rows of the same filter ("Show more") are: they stay while the longer list loads.
  const shownFor = useRef<string | undefined | typeof load>(undefined);
  useEffect(() => {
    if (skip) return;
    const forNow = resetKey ?? load;
    if (shownFor.current !== forNow) setData(null);
    shownFor.current = forNow;
    setLoading(true);
    void reload({ fresh: true });
  }, [reload, skip, resetKey, load]);

  return { data, error, loading, reload, setData, inFlight };
}

/** Loads a GraphQL query; `reload()` refetches; `pollMs` refetches while `poll` is true. */
export function useQuery<T>(
  query: string,
  variables: Record<string, unknown> = {},
  opts: { pollMs?: number; poll?: boolean; skip?: boolean; resetKey?: string } = {},
) {
  const key = JSON.stringify(variables);
  const load = useCallback(({ background }: { background: boolean }) => gql<T>(query, JSON.parse(key), { background }), [query, key]);
  return usePolledLoader(load, opts);
}

/** useLoader, loaded again every `pollMs` (in the background) while `poll` is true. */
export function usePolledLoader<T>(
  load: (opts: { background: boolean }) => Promise<T>,
  opts: { pollMs?: number; poll?: boolean; skip?: boolean; resetKey?: string } = {},
) {
  const { inFlight, ...state } = useLoader(load, { skip: opts.skip, resetKey: opts.resetKey });
  const { reload } = state;

  useEffect(() => {
    if (!opts.pollMs || !opts.poll || opts.skip) return;
    // A poll is skipped while a request is still out: on a slow server, polls would otherwise
    // pile up, each one adding load to what made the last one slow. A request out for longer
    // than a few polls is taken for lost (a dropped connection): polling resumes.
    const patience = Math.max(30_000, 3 * opts.pollMs);
    const t = setInterval(() => {
      const { count, since } = inFlight.current;
      if (count === 0 || Date.now() - since > patience) void reload({ background: true });
    }, opts.pollMs);
    return () => clearInterval(t);
  }, [opts.pollMs, opts.poll, opts.skip, reload, inFlight]);

  return state;
}
