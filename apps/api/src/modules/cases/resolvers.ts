import type { Policy } from "../../auth/policy.ts";
import { CASE_READERS } from "../../auth/roles.ts";
import { notFound } from "../../errors.ts";
import type { Resolvers } from "../../generated/graphql.ts";
import { actor } from "../../lib/actor.ts";
import { isUuid } from "../../lib/pagination.ts";
import type { Case } from "@rcmnet/db";
import type { Context } from "../../context.ts";
import { canSeePatientRef, isAmendmentOpen } from "./caseRules.ts";
import { createCase } from "./createCase.ts";
import { updateCase } from "./updateCase.ts";
import { countCasesByStatus } from "./countCasesByStatus.ts";
import { listCases } from "./listCases.ts";
import { listCells } from "./listCells.ts";
import { computeDifferential, screenedClasses } from "./differential.ts";
import { stillWithdrawn } from "../signoff/withdrawnCells.ts";

const sum = (rows: { count: number; reviewed: number }[], key: "count" | "reviewed") => rows.reduce((s, r) => s + r[key], 0);

async function loadOr404<T>(value: Promise<T | null>, what: string): Promise<T> {
  const row = await value;
  if (!row) throw notFound(what);
  return row;
}

/** The case.amend event of the amendment open on the case; null when none is open. */
async function openAmendment(c: Case, ctx: Context) {
  return isAmendmentOpen(c) ? ctx.loaders.amendEventByCaseId.load(c.id) : null;
}

export const resolvers: Resolvers = {
  Query: {
    cases: (_p, args, ctx) => listCases(ctx.prisma, args.filter, args),
    caseStatusCounts: (_p, args, ctx) => countCasesByStatus(ctx.prisma, args.filter),
    case: (_p, args, ctx) => loadOr404(isUuid(args.id) ? ctx.loaders.caseById.load(args.id) : Promise.resolve(null), "Case"),
    cell: (_p, args, ctx) =>
      loadOr404(isUuid(args.id) ? ctx.prisma.cell.findUnique({ where: { id: args.id } }) : Promise.resolve(null), "Cell"),
  },
  Mutation: {
    createCase: (_p, args, ctx) => createCase(ctx.prisma, actor(ctx), args.input),
    updateCase: (_p, args, ctx) => updateCase(ctx.prisma, actor(ctx), args.input),
  },
  Case: {
    // Field-level rule: the link to the hospital record is hidden from roles that do not need it.
    patientRef: (c, _a, ctx) => (ctx.user && canSeePatientRef(ctx.user.role) ? c.patientRef : null),
    // A date tied to the patient: the same rule.
    collectedAt: (c, _a, ctx) => (ctx.user && canSeePatientRef(ctx.user.role) ? c.collectedAt : null),
    createdBy: (c, _a, ctx) => loadOr404(ctx.loaders.userById.load(c.createdById), "User"),
    slides: (c, _a, ctx) => ctx.loaders.slidesByCaseId.load(c.id),
    // The open amendment (isAmendmentOpen, ANALYZING included: an image uploaded into it is being
    // analysed) as its case.amend audit event recorded it: one lookup per case with one open, for
    // the review and report pages (not the worklist).
    amendmentStartedAt: async (c, _a, ctx) => (await openAmendment(c, ctx))?.at ?? null,
    amendmentStartedBy: async (c, _a, ctx) => {
      const actorId = (await openAmendment(c, ctx))?.actorId;
      return actorId ? loadOr404(ctx.loaders.userById.load(actorId), "User") : null;
    },
    // Free text that may name a patient ("cell 12 is a blast, MRN-…"): withheld like patientRef.
    amendmentReason: async (c, _a, ctx) => (ctx.user && canSeePatientRef(ctx.user.role) ? ((await openAmendment(c, ctx))?.reason ?? null) : null),
    failedImageCount: (c, _a, ctx) => ctx.loaders.failedSlideCountByCaseId.load(c.id),
    cellCount: async (c, _a, ctx) => sum(await ctx.loaders.labelCountsByCaseId.load(c.id), "count"),
    reviewedCount: async (c, _a, ctx) => sum(await ctx.loaders.labelCountsByCaseId.load(c.id), "reviewed"),
    cells: (c, args, ctx) => listCells(ctx.prisma, c.id, args, args),
    differential: async (c, _a, ctx) => {
      const labelSets = await ctx.loaders.modelLabelSetsByCaseId.load(c.id);
      return {
        ...computeDifferential(await ctx.loaders.labelCountsByCaseId.load(c.id), labelSets),
        // The classes computeDifferential lists at 0: one function, not a second copy of its rule.
        screenedClasses: screenedClasses(labelSets),
      };
    },
  },
  Slide: {
    imageUrl: (s) => `/blobs/${s.imageSha256}`,
    uploadedBy: (s, _a, ctx) => loadOr404(ctx.loaders.userById.load(s.uploadedById), "User"),
    voidedBy: (s, _a, ctx) => (s.voidedById ? loadOr404(ctx.loaders.userById.load(s.voidedById), "User") : null),
    // Typed when an image is found to be another patient's: withheld like the patient reference.
    voidReason: (s, _a, ctx) => (ctx.user && canSeePatientRef(ctx.user.role) ? s.voidReason : null),
    originalName: (s, _a, ctx) => (ctx.user && canSeePatientRef(ctx.user.role) ? s.originalName : null),
  },
  Cell: {
    slide: (c, _a, ctx) => loadOr404(ctx.loaders.slideById.load(c.slideId), "Slide"),
    cropUrl: (c) => `/blobs/${c.cropSha256}`,
    humanDecided: (c) => c.reviewCount > 0,
    prediction: async (c, _a, ctx) => (await ctx.loaders.predictionsByCellId.load(c.id))[0] ?? null,
    predictions: (c, _a, ctx) => ctx.loaders.predictionsByCellId.load(c.id),
    // reviewCount is kept with every review: a cell without reviews needs no lookup.
    reviews: (c, _a, ctx) => (c.reviewCount === 0 ? [] : ctx.loaders.reviewsByCellId.load(c.id)),
    // Withdrawn by a retraction and still counted (signOffCase refuses a result over it): the
    // slide (voided or failed: not counted) and the case's retraction, each batched per request.
    withdrawnInVersion: async (c, _a, ctx) => {
      const slide = await ctx.loaders.slideById.load(c.slideId);
      if (!slide || slide.voidedAt !== null || slide.analysisStatus === "FAILED") return null;
      const retraction = await ctx.loaders.withdrawingRetractionByCaseId.load(slide.caseId);
      return retraction && stillWithdrawn(retraction, c) ? retraction.version : null;
    },
  },
  CellConnection: {
    totalCount: (page, _a, ctx) => page.knownTotal ?? ctx.prisma.cell.count({ where: page.where }),
  },
  Prediction: {
    // The status comes with the identity in the loader's one query: no lookup per prediction.
    modelVersion: async (p, _a, ctx) => {
      const { status, ...ref } = await loadOr404(ctx.loaders.modelVersionRefById.load(p.modelVersionId), "Model version");
      return { ...ref, isChampion: status === "CHAMPION" };
    },
  },
  Review: {
    reviewer: (r, _a, ctx) => loadOr404(ctx.loaders.userById.load(r.reviewerId), "User"),
    // Free text typed beside a cell's label may name the patient ("smear is MRN-…'s"): withheld
    // like the morphology comment, as its copies are in the signed report and the audit trail.
    reason: (r, _a, ctx) => (canSeePatientRef(ctx.user?.role) ? r.reason : null),
    reasonWithheld: (r, _a, ctx) => r.reason !== null && !canSeePatientRef(ctx.user?.role),
  },
};

export const policy: Policy = {
  "Query.cases": CASE_READERS,
  "Query.caseStatusCounts": CASE_READERS,
  "Query.case": CASE_READERS,
  "Query.cell": CASE_READERS,
  "Mutation.createCase": ["TECHNICIAN"],
  // Technicians fix accession-level details before review; hematologists may too.
  "Mutation.updateCase": ["TECHNICIAN", "HEMATOLOGIST"],
};
