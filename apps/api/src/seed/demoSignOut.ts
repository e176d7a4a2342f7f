// Reviews the synthetic demo cases against their ground truth through the real review and
// sign-off services (same rules, same audit trail as a person at the dashboard).
import type { Case, PrismaClient, User } from "@rcmnet/db";
import type { DemoField } from "./demoCases.ts";
import { asActor } from "./demoCases.ts";
import { UNIDENTIFIED } from "../modules/cases/caseRules.ts";
import { bulkConfirmableCells, confirmCells } from "../modules/review/confirmCells.ts";
import { reclassifyCell } from "../modules/review/reclassifyCell.ts";
import { signOffCase } from "../modules/signoff/signOffCase.ts";

type Box = { x: number; y: number; width: number; height: number };

function iou(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union <= 0 ? 0 : inter / union;
}

/** The ground-truth label of a detected box, or null when it matches no drawn cell. */
export function truthLabel(box: Box, truth: NonNullable<DemoField["truth"]>): string | null {
  let best: { label: string; overlap: number } | null = null;
  for (const t of truth) {
    const overlap = iou(box, t);
    if (overlap >= 0.2 && (!best || overlap > best.overlap)) best = { label: t.label, overlap };
  }
  return best?.label ?? null;
}

export async function reviewAndSignOut(options: {
  prisma: PrismaClient;
  hematologist: User;
  password: string;
  kase: Case;
  truthBySlide: Map<string, NonNullable<DemoField["truth"]>>;
}): Promise<"signed" | "skipped"> {
  const { prisma, kase } = options;
  const actor = asActor(options.hematologist);
  const current = await prisma.case.findUniqueOrThrow({ where: { id: kase.id } });
  if (current.status !== "IN_REVIEW") return "skipped"; // still analysing, or already signed
  // Cells of a failed image are not part of the case (listCells): neither decided nor signed.
  const ofCase = { caseId: kase.id, analysisStatus: { not: "FAILED" as const } };
  const cells = await prisma.cell.findMany({
    where: { slide: ofCase, reviewCount: 0 },
    orderBy: [{ slideId: "asc" }, { y: "asc" }, { x: "asc" }],
  });
  const reason = "Morphology reviewed (demo: ground truth of the synthetic field)";
  let corrected = false;
  const confirm: { cellId: string; expectedReviewCount: number; expectedLabel: string; reason?: string }[] = [];
  for (const cell of cells) {
    const truth = options.truthBySlide.get(cell.slideId);
    // A detection that matches no drawn white cell is what a hematologist would call an artifact.
    const label = truth ? (truthLabel(cell, truth) ?? "artifact") : cell.currentLabel;
    if (label && label === cell.currentLabel) {
      // An AI abstention left unidentified is out of the count: the decision says why.
      confirm.push({ cellId: cell.id, expectedReviewCount: 0, expectedLabel: label, ...(label === UNIDENTIFIED ? { reason } : {}) });
    } else {
      corrected = true;
      await reclassifyCell(prisma, actor, {
        cellId: cell.id,
        expectedReviewCount: 0,
        expectedLabel: cell.currentLabel,
        label: label ?? UNIDENTIFIED,
        reason,
      });
    }
  }
  // As at the dashboard: confident AI calls of the champion confirmed together, the others one by
  // one (a bulk confirm refuses them; how many there are depends on the model, and on the CPU it
  // trained on).
  const confident = await bulkConfirmableCells(prisma, confirm.map((c) => c.cellId));
  const together = confirm.filter((c) => confident.has(c.cellId));
  if (together.length > 0) await confirmCells(prisma, actor, together, true);
  for (const one of confirm.filter((c) => !confident.has(c.cellId))) await confirmCells(prisma, actor, [one]);
  // The seed signs what it just decided: the case's cells and decisions as they stand now.
  const decided = await prisma.cell.findMany({ where: { slide: ofCase }, select: { reviewCount: true } });
  await signOffCase(prisma, actor, {
    caseId: kase.id,
    login: actor.login,
    password: options.password,
    meaning: corrected ? "Reviewed and approved with corrections" : "Reviewed and approved",
    seenCells: decided.length,
    seenDecisions: decided.reduce((n, c) => n + c.reviewCount, 0),
    seenCaseUpdatedAt: (await prisma.case.findUniqueOrThrow({ where: { id: kase.id } })).updatedAt,
  });
  return "signed";
}
