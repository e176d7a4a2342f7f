import type { ModelStatus, ModelVersion, PrismaClient } from "@rcmnet/db";
import { notFound } from "../../errors.ts";
import { decodeCursor, isUuid, PAGE_LIMITS, pageSize, toConnection, type PageArgs } from "../../lib/pagination.ts";

/** Newest first; the cursor is the last row's id (ties on createdAt broken by id). */
export async function listModelVersions(
  prisma: PrismaClient,
  args: PageArgs & { status?: ModelStatus | null },
) {
  const size = pageSize(args.first, PAGE_LIMITS["Query.modelVersions"]);
  const cursor = args.after ? decodeCursor(args.after) : null;
  if (cursor !== null && !isUuid(cursor)) throw notFound("Cursor row");
  const rows = await prisma.modelVersion.findMany({
    where: args.status ? { status: args.status } : {},
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: size + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
  });
  return toConnection(rows, size, (r) => r.id);
}

export async function getModelVersion(prisma: PrismaClient, id: string): Promise<ModelVersion> {
  if (!isUuid(id)) throw notFound("Model version");
  const row = await prisma.modelVersion.findUnique({ where: { id } });
  if (!row) throw notFound("Model version");
  return row;
}

export function getChampion(prisma: PrismaClient): Promise<ModelVersion | null> {
  return prisma.modelVersion.findFirst({ where: { status: "CHAMPION" } });
}
