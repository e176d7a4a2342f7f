// A champion must keep every class the one it replaces knows. A run trained on a snapshot
// without, say, eosinophils gets a smaller output layer; scored on that snapshot's TEST part
// (no eosinophils either) it looks as good as the champion, yet once serving it could never
// suggest an eosinophil again. New classes are welcome; lost ones are refused for a promotion.
// A rollback may lose classes (back past a promotion that added one): it is the emergency way
// back, and its proposal records the classes it loses for the approver.
import type { ModelVersion } from "@rcmnet/db";
import { conflict } from "../../errors.ts";

type Named = Pick<ModelVersion, "name" | "version" | "labels">;

/** The champion's classes the target cannot suggest (none without a champion). */
export function lostClasses(target: Pick<ModelVersion, "labels">, champion: Pick<ModelVersion, "labels"> | null): string[] {
  const known = new Set(target.labels);
  return champion ? champion.labels.filter((l) => !known.has(l)) : [];
}

export function assertKeepsClasses(target: Named, champion: Named | null): void {
  const lost = lostClasses(target, champion);
  if (!champion || lost.length === 0) return;
  throw conflict(
    `${target.name} ${target.version} cannot suggest ${lost.join(", ")}, which the champion ${champion.name} ${champion.version} does: a champion must keep every class (train on a snapshot with TRAIN cells of each)`,
    { missingLabels: lost },
  );
}
