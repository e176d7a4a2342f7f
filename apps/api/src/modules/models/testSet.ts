// Which TEST part a version's own figures (metrics.test, from its training run) were measured on:
// the registry lists versions side by side, and figures on different test sets do not compare.
import type { ModelVersion, PrismaClient } from "@rcmnet/db";
import { isUuid } from "../../lib/pagination.ts";

export async function testSetOf(prisma: PrismaClient, version: ModelVersion) {
  const m = (version.metrics ?? {}) as { snapshotId?: unknown; test?: { count?: unknown; confusion?: { matrix?: unknown } } };
  if (typeof m.snapshotId !== "string" || !m.test) return null;
  const matrix = m.test.confusion?.matrix;
  // Older records may lack the count; their confusion matrix holds every TEST cell once.
  const cells =
    typeof m.test.count === "number"
      ? m.test.count
      : Array.isArray(matrix)
        ? matrix.flat().reduce((sum: number, n) => sum + (typeof n === "number" ? n : 0), 0)
        : null;
  if (cells === null) return null;
  const snapshot = isUuid(m.snapshotId) ? await prisma.datasetSnapshot.findUnique({ where: { id: m.snapshotId } }) : null;
  return { snapshotId: m.snapshotId, snapshot, cells };
}
