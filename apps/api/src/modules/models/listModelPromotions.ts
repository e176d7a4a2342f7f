import type { PrismaClient, PromotionState } from "@rcmnet/db";
import { notFound } from "../../errors.ts";
import { decodeCursor, isUuid, PAGE_LIMITS, pageSize, toConnection, type PageArgs } from "../../lib/pagination.ts";

export async function listModelPromotions(
  prisma: PrismaClient,
  args: PageArgs & { state?: PromotionState | null },
) {
  const size = pageSize(args.first, PAGE_LIMITS["Query.modelPromotions"]);
  const cursor = args.after ? decodeCursor(args.after) : null;
  if (cursor !== null && !isUuid(cursor)) throw notFound("Cursor row");
  const rows = await prisma.modelPromotion.findMany({
    where: args.state ? { state: args.state } : {},
    orderBy: [{ proposedAt: "desc" }, { id: "desc" }],
    take: size + 1,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
  });
  return toConnection(rows, size, (r) => r.id);
}
