import type { PrismaClient, TrainingRun } from "@rcmnet/db";
import { notFound } from "../../errors.ts";
import { decodeCursor, isUuid, PAGE_LIMITS, pageSize, toConnection, type PageArgs } from "../../lib/pagination.ts";

export async function listTrainingRuns(prisma: PrismaClient, args: PageArgs) {
  const size = pageSize(args.first, PAGE_LIMITS["Query.trainingRuns"]);
  const cursor = args.after ? decodeCursor(args.after) : null;
  if (cursor !== null && !isUuid(cursor)) throw notFound("Cursor row");
  const rows = await prisma.trainingRun.findMany({
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: size + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
  });
  return toConnection(rows, size, (r) => r.id);
}

export async function getTrainingRun(prisma: PrismaClient, id: string): Promise<TrainingRun> {
  if (!isUuid(id)) throw notFound("Training run");
  const row = await prisma.trainingRun.findUnique({ where: { id } });
  if (!row) throw notFound("Training run");
  return row;
}
