import type { z } from "zod";
import { badInput } from "../errors.ts";

/** zod parse whose failure is a BAD_USER_INPUT listing each problem. */
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
    throw badInput(problems.join("; "), { problems });
  }
  return r.data;
}
