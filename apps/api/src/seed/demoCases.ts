// Demo cases: different priorities and statuses, smear fields from BCCD JPEGs when a folder is
// configured (else synthetic fields), analysed by the worker code like any upload. Two cases are
// reviewed against the synthetic ground truth and signed out, so a DATA_SCIENTIST finds human
// labels to snapshot and retrain on.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import {
  sha256Hex,
  type BlobStore,
  type Case,
  type CaseStatus,
  type Priority,
  type PrismaClient,
  type User,
} from "@rcmnet/db";
import type { AuthUser } from "../context.ts";
import { recordAudit } from "../audit/recordAudit.ts";
import { enqueueSlideAnalysis } from "../jobs/analysisJobs.ts";
import type { ModelRuntime } from "../jobs/model/runtime.ts";
import { createCase } from "../modules/cases/createCase.ts";
import { pixelSha256Of } from "../modules/slides/validateImage.ts";

export interface DemoField {
  bytes: Uint8Array;
  mimeType: "image/jpeg" | "image/png";
  /** Ground truth for synthetic fields: (box, label) of each white cell. */
  truth?: { x: number; y: number; width: number; height: number; label: string }[];
}

export interface DemoCaseSpec {
  accession: string;
  priority: Priority;
  product: string;
  timepoint: string;
  /** Number of fields; 0 leaves the case RECEIVED. */
  fields: number;
  /** Synthetic fields with ground truth, reviewed and signed out by the demo hematologist. */
  signOut?: boolean;
}

export const DEMO_CASES: DemoCaseSpec[] = [
  { accession: "DEMO-0001", priority: "STAT", product: "tisagenlecleucel", timepoint: "day +7", fields: 3 },
  {
    accession: "DEMO-0002",
    priority: "URGENT",
    product: "axicabtagene ciloleucel",
    timepoint: "day +14",
    fields: 3,
  },
  {
    accession: "DEMO-0003",
    priority: "ROUTINE",
    product: "lisocabtagene maraleucel",
    timepoint: "day +28",
    fields: 2,
  },
  {
    accession: "DEMO-0004",
    priority: "ROUTINE",
    product: "tisagenlecleucel",
    timepoint: "day +90",
    fields: 0,
  },
  {
    accession: "DEMO-0005",
    priority: "ROUTINE",
    product: "tisagenlecleucel",
    timepoint: "day +7",
    fields: 4,
    signOut: true,
  },
  {
    accession: "DEMO-0006",
    priority: "URGENT",
    product: "brexucabtagene autoleucel",
    timepoint: "day +14",
    fields: 4,
    signOut: true,
  },
];

/** Few and small: the Playwright setup seeds in seconds. */
export const E2E_CASES: DemoCaseSpec[] = [
  { accession: "DEMO-0001", priority: "STAT", product: "tisagenlecleucel", timepoint: "day +7", fields: 1 },
  {
    accession: "DEMO-0002",
    priority: "ROUTINE",
    product: "axicabtagene ciloleucel",
    timepoint: "day +14",
    fields: 1,
  },
  {
    accession: "DEMO-0004",
    priority: "ROUTINE",
    product: "tisagenlecleucel",
    timepoint: "day +90",
    fields: 0,
  },
  {
    accession: "DEMO-0005",
    priority: "ROUTINE",
    product: "tisagenlecleucel",
    timepoint: "day +7",
    fields: 2,
    signOut: true,
  },
];

export const asActor = (u: User): AuthUser => ({
  id: u.id,
  login: u.login,
  displayName: u.displayName,
  role: u.role,
});

/** BCCD-style JPEGs in a folder (JPEGImages/ or the folder itself), in a stable order. */
export async function listFieldFiles(dir: string | undefined): Promise<string[]> {
  if (!dir) return [];
  for (const candidate of [join(dir, "JPEGImages"), dir]) {
    try {
      if (!(await stat(candidate)).isDirectory()) continue;
      const names = (await readdir(candidate)).filter((n) => /\.jpe?g$/i.test(n)).sort();
      if (names.length > 0) return names.map((n) => join(candidate, n));
    } catch {
      // not there: try the next layout
    }
  }
  return [];
}

export interface FieldSource {
  /** The n-th field of the demo (deterministic). */
  field(n: number, options: { synthetic: boolean }): Promise<DemoField>;
}

export function fieldSource(files: string[], synth: (seed: number) => Promise<DemoField>): FieldSource {
  return {
    async field(n, { synthetic }) {
      const file = files[n % Math.max(1, files.length)];
      if (synthetic || !file) return synth(1000 + n);
      return { bytes: await readFile(file), mimeType: "image/jpeg" };
    },
  };
}

/**
 * Creates the missing demo cases with their slides and queued analyses (idempotent: a case
 * whose accession exists is left as it is). Returns the cases that must be signed out once
 * analysed, with the ground truth of their fields by slide id.
 */
export async function ensureDemoCases(options: {
  prisma: PrismaClient;
  blobs: BlobStore;
  runtime: ModelRuntime;
  technician: User;
  specs: DemoCaseSpec[];
  fields: FieldSource;
}): Promise<{ toSignOut: { case: Case; truthBySlide: Map<string, NonNullable<DemoField["truth"]>> }[] }> {
  const { prisma, blobs, runtime, specs } = options;
  const actor = asActor(options.technician);
  const toSignOut = [];
  let fieldNo = 0;
  for (const spec of specs) {
    const firstField = fieldNo;
    fieldNo += spec.fields;
    let kase = await prisma.case.findUnique({ where: { accession: spec.accession } });
    const truthBySlide = new Map<string, NonNullable<DemoField["truth"]>>();
    if (!kase) {
      kase = await createCase(prisma, actor, {
        accession: spec.accession,
        priority: spec.priority,
        product: spec.product,
        timepoint: spec.timepoint,
        // Obviously synthetic: demo data must never look like a real record.
        patientRef: `DEMO-PATIENT-${spec.accession.slice(-4)}`,
      });
      const created = kase;
      const fields: DemoField[] = [];
      for (let i = 0; i < spec.fields; i++) {
        fields.push(await options.fields.field(firstField + i, { synthetic: spec.signOut === true }));
      }
      const sizes = await Promise.all(fields.map((f) => runtime.imageSize(f.bytes)));
      const shas = await Promise.all(fields.map((f) => blobs.put(f.bytes)));
      const pixels = await Promise.all(fields.map((f) => pixelSha256Of(f.bytes)));
      await prisma.$transaction(async (tx) => {
        for (const [i, f] of fields.entries()) {
          const slide = await tx.slide.create({
            data: {
              caseId: created.id,
              kind: "FIELD",
              imageSha256: shas[i]!,
              pixelSha256: pixels[i]!,
              mimeType: f.mimeType,
              byteSize: f.bytes.length,
              width: sizes[i]!.width,
              height: sizes[i]!.height,
              stain: "May-Grünwald-Giemsa",
              magnification: 100,
              uploadedById: actor.id,
            },
          });
          if (f.truth) truthBySlide.set(slide.id, f.truth);
          await enqueueSlideAnalysis(tx, slide.id);
          await recordAudit(tx, actor, {
            action: "slide.upload",
            entityType: "Slide",
            entityId: slide.id,
            after: {
              caseId: created.id,
              accession: created.accession,
              kind: "FIELD",
              sha256: shas[i]!,
              demo: true,
            },
          });
        }
        if (fields.length > 0) {
          await tx.case.update({ where: { id: created.id }, data: { status: "ANALYZING" } });
          await recordAudit(tx, actor, {
            action: "case.status",
            entityType: "Case",
            entityId: created.id,
            before: { status: "RECEIVED" },
            after: { status: "ANALYZING", accession: created.accession },
            reason: "demo slides uploaded",
          });
        }
      });
    } else if (spec.signOut) {
      // Interrupted earlier seed: the truth of synthetic fields is regenerated (deterministic).
      const slides = await prisma.slide.findMany({ where: { caseId: kase.id } });
      for (let i = 0; i < spec.fields; i++) {
        const f = await options.fields.field(firstField + i, { synthetic: true });
        const slide = slides.find((s) => s.imageSha256 === sha256Hex(f.bytes));
        if (slide && f.truth) truthBySlide.set(slide.id, f.truth);
      }
    }
    const signable: CaseStatus[] = ["RECEIVED", "ANALYZING", "IN_REVIEW"];
    if (spec.signOut && signable.includes(kase.status)) toSignOut.push({ case: kase, truthBySlide });
  }
  return { toSignOut };
}
