import type { Policy } from "../../auth/policy.ts";
import { CASE_READERS } from "../../auth/roles.ts";
import { notFound } from "../../errors.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { actor } from "../../lib/actor.ts";
import { isUuid } from "../../lib/pagination.ts";
import { signOffCase } from "./signOffCase.ts";
import { amendCase } from "./amendCase.ts";
import { auditedSha256, signedCellsDiffer, verifySignOffRow } from "./verifySignOff.ts";
import { isRetraction } from "./meanings.ts";
import { hashFor } from "../audit/redact.ts";
import { canSeePatientRef } from "../cases/caseRules.ts";
import { signedContentFor, withheldFields } from "./readerContent.ts";

async function findSignOff(prisma: Parameters<typeof signOffCase>[0], id: string) {
  const row = isUuid(id) ? await prisma.signOff.findUnique({ where: { id } }) : null;
  if (!row) throw notFound("Sign-off");
  return row;
}

export const resolvers: Resolvers = {
  Query: {
    signOff: (_p, args, ctx) => findSignOff(ctx.prisma, args.id),
    verifySignOff: async (_p, args, ctx) => {
      const row = await findSignOff(ctx.prisma, args.id);
      const v = verifySignOffRow(row, await auditedSha256(ctx.prisma, row), await signedCellsDiffer(ctx.prisma, row));
      // The verdict for every case reader; the hashes (over the patient reference) only for those who may see it.
      const role = ctx.user?.role;
      return {
        ...v,
        storedSha256: hashFor(v.storedSha256, role),
        computedSha256: hashFor(v.computedSha256, role),
        auditedSha256: hashFor(v.auditedSha256, role),
      };
    },
  },
  Mutation: {
    signOffCase: (_p, args, ctx) => signOffCase(ctx.prisma, actor(ctx), args.input, ctx.session),
    amendCase: (_p, args, ctx) => amendCase(ctx.prisma, actor(ctx), args.input),
  },
  Case: {
    signOffs: (c, _a, ctx) => ctx.prisma.signOff.findMany({ where: { caseId: c.id }, orderBy: { version: "asc" } }),
    currentSignOff: (c, _a, ctx) =>
      c.reportVersion > 0 ? ctx.prisma.signOff.findUnique({ where: { caseId_version: { caseId: c.id, version: c.reportVersion } } }) : null,
  },
  SignOff: {
    // The signed patient reference, the hashes inside (the anchor's, an amendment's `supersedes`)
    // and the free text that may name a patient ("compare with MRN-…", "smear belongs to
    // MRN-4411"), only for roles that may see it: signedContentFor.
    content: (s, _a, ctx) => signedContentFor(s.content, ctx.user?.role),
    // What of it was signed and is withheld from this reader: a null alone cannot tell.
    withheld: (s, _a, ctx) => withheldFields(s.content, ctx.user?.role),
    contentSha256: (s, _a, ctx) => hashFor(s.contentSha256, ctx.user?.role),
    signer: async (s, _a, ctx) => (await ctx.loaders.userById.load(s.signerId)) ?? Promise.reject(notFound("User")),
    supersedes: (s, _a, ctx) => (s.supersedesId ? ctx.prisma.signOff.findUnique({ where: { id: s.supersedesId } }) : null),
    // The column repeats the signed `content.amendmentReason` (the case.amend event's reason).
    amendmentReason: (s, _a, ctx) => (canSeePatientRef(ctx.user?.role) ? s.amendmentReason : null),
    comment: (s, _a, ctx) => {
      const c = (s.content as { comment?: unknown } | null)?.comment;
      return typeof c === "string" && canSeePatientRef(ctx.user?.role) ? c : null;
    },
    // The meaning column, which verifySignOff checks against content.retracted.
    retracted: (s) => isRetraction(s.meaning),
  },
};

export const policy: Policy = {
  "Query.signOff": CASE_READERS,
  "Query.verifySignOff": CASE_READERS,
  "Mutation.signOffCase": ["HEMATOLOGIST"],
  "Mutation.amendCase": ["HEMATOLOGIST"],
};
