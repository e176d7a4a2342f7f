// Voids an image uploaded into the wrong case (wrong patient, wrong slide, a blurred field) before
// the case is signed. Clinical records are never deleted: the slide, its cells, predictions and
// reviews stay readable, and the void records who, when and why (the database refuses to clear or
// change it: migration 20261127190000_void_slide). What a void takes away is the image's weight:
// its cells leave the differential, no longer hold up sign-off and never feed a dataset snapshot.
import type { PrismaClient, Slide } from "@rcmnet/db";
import { z } from "zod";
import type { AuthUser } from "../../context.ts";
import { auditSnapshot, recordAudit } from "../../audit/recordAudit.ts";
import { conflict, forbidden, notFound } from "../../errors.ts";
import { advanceCaseIfAnalysed } from "../../jobs/handlers/analyzeSlide.ts";
import { databaseNow } from "../../lib/databaseNow.ts";
import { isUuid } from "../../lib/pagination.ts";
import { parseInput } from "../../lib/validate.ts";
import { assertNotSigned, lockCase } from "../cases/caseRules.ts";
import { mayChangeBeforeSignature } from "../cases/caseStatus.ts";
import { VOID_REASON_LENGTH } from "./voidRules.ts";

const { min: VOID_REASON_MIN, max: VOID_REASON_MAX } = VOID_REASON_LENGTH;

export const voidSlideInput = z.object({
  slideId: z.string(),
  reason: z
    .string()
    .trim()
    .min(VOID_REASON_MIN, `reason: say why the image is voided (at least ${VOID_REASON_MIN} characters)`)
    .max(VOID_REASON_MAX, `reason: at most ${VOID_REASON_MAX} characters`),
  /**
   * The slide's updatedAt as the page loaded it: an image whose analysis moved on since (cells
   * found, or failed) is voided only by someone who has seen that.
   */
  expectedUpdatedAt: z.date({ error: "expectedUpdatedAt (the image's updatedAt as you loaded it) is required" }),
});

/** The void's own columns and what identifies the image, for the audit event. */
const VOID_FIELDS = ["id", "caseId", "kind", "imageSha256", "analysisStatus", "voidedAt", "voidedById", "voidReason"] as const;

function voidSnapshot(slide: Slide) {
  return auditSnapshot(Object.fromEntries(VOID_FIELDS.map((k) => [k, slide[k]])));
}

export async function voidSlide(prisma: PrismaClient, actor: AuthUser, raw: unknown): Promise<Slide> {
  const input = parseInput(voidSlideInput, raw);
  if (!isUuid(input.slideId)) throw notFound("Slide");
  // The case first, to take its lock: a void waits for a review, sign-off, upload or analysis
  // finishing on the same case (each holds that lock), and they wait for it.
  const found = await prisma.slide.findUnique({ where: { id: input.slideId }, select: { caseId: true } });
  if (!found) throw notFound("Slide");
  return prisma.$transaction(async (tx) => {
    const kase = await lockCase(tx, found.caseId);
    assertNotSigned(kase);
    // In an amendment the image's cells were signed in an earlier version: taking them out of the
    // next one is a hematologist's decision, not a technician's.
    if (!mayChangeBeforeSignature(actor.role, kase.reportVersion)) {
      throw forbidden(`This case is being amended (signed as version ${kase.reportVersion}): only a hematologist may void one of its images`);
    }
    const before = await tx.slide.findUniqueOrThrow({ where: { id: input.slideId } });
    if (before.voidedAt) {
      throw conflict(`This image was already voided at ${before.voidedAt.toISOString()}: a void is final`, {
        voidedAt: before.voidedAt.toISOString(),
      });
    }
    if (input.expectedUpdatedAt.getTime() !== before.updatedAt.getTime()) {
      throw conflict("This image changed since your page loaded (its analysis moved on): reload the case and decide again", {
        updatedAt: before.updatedAt.toISOString(),
      });
    }
    // The database's clock, like the audit trail's and the signatures'.
    const now = await databaseNow(tx);
    const after = await tx.slide.update({
      where: { id: before.id },
      data: { voidedAt: now, voidedById: actor.id, voidReason: input.reason },
    });
    // The case moves too: a sign-off or an edit prepared on a page that still counted this image
    // is refused (they compare the case's updatedAt) rather than signing what changed under it.
    await tx.case.update({ where: { id: kase.id }, data: { updatedAt: now } });
    await recordAudit(tx, actor, {
      action: "slide.void",
      entityType: "Slide",
      entityId: before.id,
      before: voidSnapshot(before),
      after: { ...voidSnapshot(after), accession: kase.accession },
      reason: input.reason,
    });
    // The last image still waiting for analysis may be the one voided: the case then goes to
    // review, by this user's void (nothing was analysed), and the trail says so.
    await advanceCaseIfAnalysed(tx, kase.id, { actor, reason: "the last image awaiting analysis was voided" });
    return after;
  });
}
