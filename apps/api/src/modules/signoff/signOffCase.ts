// Electronic sign-off of a case report (21 CFR 11.50, 11.70, 11.200): the hematologist re-enters
// the password, the case must be fully reviewed, and the exact signed content is stored with its
// sha256. The content includes the audit chain head (seq + hash) as an external anchor: the
// signature then also vouches for the whole trail up to that point. An amendment may instead be
// signed as a retraction (meanings.ts): it withdraws the version it supersedes and reports no
// result, and it is the one signature possible once every image is voided (docs/decisions.md D10).
import type { Prisma, PrismaClient, User } from "@rcmnet/db";
import { z } from "zod";
import type { AuthUser } from "../../context.ts";
import { badInput, conflict, forbidden, isUniqueViolation, notFound } from "../../errors.ts";
import { recordAudit } from "../../audit/recordAudit.ts";
import { parseInput } from "../../lib/validate.ts";
import { isUuid } from "../../lib/pagination.ts";
import { checkPassword } from "../auth/login.ts";
import { lockCase, UNIDENTIFIED } from "../cases/caseRules.ts";
import { caseLabelCounts, computeDifferential } from "../cases/differential.ts";
import { absoluteCounts } from "../cases/whiteCellDifferential.ts";
import { latestAmendEvents } from "./amendCase.ts";
import { sha256OfContent } from "./canonicalJson.ts";
import { isRetraction, MAX_SIGNED_COMMENT, meaningsFor, RETRACTION_MEANING, SIGN_OFF_MEANINGS } from "./meanings.ts";
import { databaseNow } from "../../lib/databaseNow.ts";
import { signedDecisions, stillWithdrawn } from "./withdrawnCells.ts";

export const signOffCaseInput = z.object({
  caseId: z.string(),
  // Both components of the signature, typed at the first signing of a session (21 CFR
  // 11.200(a)(1)(i)): the bearer token says who is signed in, not who is at the keyboard. Later
  // signings in the same continuous session may give the password alone (11.200(a)(1)(ii)).
  // null or absent alike (GraphQL clients send null for a nullable argument they leave out).
  login: z
    .string()
    .trim()
    .min(1, "login (your user ID) must not be empty")
    .max(100)
    .nullish()
    .transform((v) => v ?? undefined),
  password: z.string().min(1, "password is required").max(256),
  meaning: z.enum(SIGN_OFF_MEANINGS, { error: `meaning must be one of: ${SIGN_OFF_MEANINGS.join("; ")}` }),
  seenCells: z.number().int().min(0),
  seenDecisions: z.number().int().min(0),
  seenCaseUpdatedAt: z.date(),
  // A free-text morphology comment printed on the report (a blast, dysplasia, a smear-quality
  // remark): signed with the counts, so it is part of the record the signature vouches for.
  // Blank means none, so a report never carries an empty comment.
  comment: z
    .string()
    .trim()
    .max(MAX_SIGNED_COMMENT, `comment must be at most ${MAX_SIGNED_COMMENT.toLocaleString("en")} characters`)
    .nullish()
    .transform((v) => v || null),
});

/**
 * When this API session (not another of the same user's) first signed with both components: its
 * signature series began then. Null while no series is open.
 */
async function signatureSeriesStart(
  db: Pick<Prisma.TransactionClient, "apiSession">,
  signerId: string,
  session: { tokenSha256: string } | undefined,
): Promise<Date | null> {
  if (!session) return null;
  const row = await db.apiSession.findUnique({ where: { tokenSha256: session.tokenSha256 }, select: { userId: true, signatureSeriesAt: true } });
  return row !== null && row.userId === signerId ? row.signatureSeriesAt : null;
}

/** Which components of the e-signature were typed (21 CFR 11.200(a)(1)): "id+password" opens or continues a series, "password" continues one. */
export type SignatureComponents = "id+password" | "password";

/** An e-signature needs a password only its owner knows (21 CFR 11.200(a)(2), 11.300). */
export function assertOwnPassword(signer: Pick<User, "mustChangePassword">): void {
  if (signer.mustChangePassword) {
    throw forbidden("Your password was set by an administrator: change it (Account) before signing");
  }
}

/**
 * Signed with every report: CAR-T cells are identified here by morphology, by a model trained on
 * public blood-cell images, and nothing has validated that against the reference methods.
 */
export const INTENDED_USE =
  "For research use only. CAR-T cells are identified by morphology (AI pre-classification, with a hematologist's decision on every cell; confident AI calls may be confirmed a gallery group at a time); this has not been validated against flow cytometry or qPCR. Not for diagnostic use.";

/**
 * `session`: the API session signing (the request's token). Without one (the demo seed) every
 * signature takes both components.
 */
export async function signOffCase(prisma: PrismaClient, actor: AuthUser, raw: unknown, session?: { tokenSha256: string }) {
  const input = parseInput(signOffCaseInput, raw);
  // A case that does not exist is refused before the password is checked: a failed or locked
  // attempt's event names the case, and must name one there is.
  if (!isUuid(input.caseId) || !(await prisma.case.findUnique({ where: { id: input.caseId }, select: { id: true } }))) throw notFound("Case");
  const signer = await prisma.user.findUnique({ where: { id: actor.id } });
  if (!signer) throw notFound("User");
  assertOwnPassword(signer);
  if (input.login === undefined && (await signatureSeriesStart(prisma, signer.id, session)) === null) {
    throw badInput("Type your user ID with your password: the first signature of a session takes both (21 CFR 11.200(a)(1)); nothing was signed", { needsUserId: true });
  }
  // Wrong signature passwords count towards the lockout like failed sign-ins; so does another
  // user's ID, checked as a password that cannot match (the same cost, count and audit event).
  const ownId = input.login === undefined || input.login.toLowerCase() === signer.login;
  await checkPassword(prisma, signer, ownId ? input.password : "", "signature", { caseId: input.caseId, ...(ownId ? {} : { userIdMismatch: true }) });

  try {
    return await prisma.$transaction(
      async (tx) => {
        const kase = await lockCase(tx, input.caseId);
        // The account read again under a lock, after the password check and the wait for the
        // case: disabled, re-roled or given a new password meanwhile (which revokes its
        // sessions), it signs nothing. FOR SHARE: such a change waits until this signature commits.
        const [now] = await tx.$queryRaw<{ disabled: boolean; role: string; passwordChangedAt: Date; mustChangePassword: boolean }[]>`
          SELECT disabled, role::text AS role, "passwordChangedAt", "mustChangePassword" FROM "user" WHERE id = ${signer.id}::uuid FOR SHARE`;
        if (!now || now.disabled || now.role !== "HEMATOLOGIST" || now.mustChangePassword || now.passwordChangedAt.getTime() !== signer.passwordChangedAt.getTime()) {
          throw forbidden("Your account changed while signing (disabled, its role or its password): nothing was signed; sign in again");
        }
        if (kase.status === "SIGNED_OUT" || kase.status === "AMENDED") {
          throw conflict(`Case ${kase.accession} is already signed (version ${kase.reportVersion}); amend it to change it`);
        }
        if (kase.status !== "IN_REVIEW") throw conflict(`Case ${kase.accession} is not ready for sign-off (status ${kase.status})`);
        // A retraction withdraws an issued report: a case never signed has none, and an unsigned
        // case reports nothing already.
        const retraction = isRetraction(input.meaning);
        if (retraction && kase.reportVersion === 0) {
          throw badInput(
            `"${RETRACTION_MEANING}" withdraws a signed report, and case ${kase.accession} has none (this would be its first report): there is nothing to retract. With no valid image, upload this patient's images to the case, or leave it unsigned; nothing was signed`,
          );
        }
        // Details, status and images move updatedAt (an image added, or failed since): the page
        // that loaded before shows neither, and its signer would sign what they never saw.
        if (kase.updatedAt.getTime() !== input.seenCaseUpdatedAt.getTime()) {
          throw conflict(
            `Case ${kase.accession} changed since your page loaded (its details or images): reload it and check the changes before signing`,
            { updatedAt: kase.updatedAt.toISOString() },
          );
        }
        // A voided image's analysis is abandoned (the worker skips it): it holds nothing up.
        const pendingSlides = await tx.slide.count({ where: { caseId: kase.id, analysisStatus: { in: ["PENDING", "RUNNING"] }, voidedAt: null } });
        if (pendingSlides > 0) throw conflict(`${pendingSlides} slide(s) of case ${kase.accession} are still being analysed`);

        const cells = await tx.$queryRaw<
          {
            id: string;
            slideId: string;
            label: string | null;
            reviewLabel: string | null;
            reviewAction: string | null;
            reviewReason: string | null;
            bulk: number | null;
            reviewCount: number;
            reviewerLogin: string | null;
            aiLabel: string | null;
            abstained: boolean | null;
            modelVersionId: string | null;
            crop: string;
            x: number;
            y: number;
            width: number;
            height: number;
          }[]
        >`
          SELECT c.id, c."slideId", c."cropSha256" AS crop, c.x, c.y, c.width, c.height, c."currentLabel" AS label, r.label AS "reviewLabel", r.action::text AS "reviewAction",
                 rr.reason AS "reviewReason", b.bulk, c."reviewCount",
                 u.login AS "reviewerLogin", p.label AS "aiLabel", p.abstained, p."modelVersionId"
          FROM cell c
          JOIN slide s ON s.id = c."slideId"
          LEFT JOIN review r ON r."cellId" = c.id AND r.seq = c."reviewCount"
          LEFT JOIN "user" u ON u.id = r."reviewerId"
          LEFT JOIN LATERAL (SELECT label, abstained, "modelVersionId" FROM prediction
                             WHERE "cellId" = c.id ORDER BY "createdAt" DESC, id DESC LIMIT 1) p ON true
          -- The reason on record for the label in force: a later plain confirmation of an override
          -- (a second look agreeing) keeps the override's reason.
          LEFT JOIN LATERAL (SELECT reason FROM review WHERE "cellId" = c.id AND reason IS NOT NULL AND label = c."currentLabel"
                             ORDER BY seq DESC LIMIT 1) rr ON true
          -- A confirmation made with a whole gallery group says so in its audit event (how many).
          LEFT JOIN LATERAL (SELECT (ae.after->>'bulk')::int AS bulk FROM audit_event ae
                             WHERE ae."entityType" = 'Cell' AND ae."entityId" = c.id::text AND ae.action = 'cell.confirm'
                               AND (ae.after->>'reviewCount')::int = c."reviewCount"
                             ORDER BY ae.seq DESC LIMIT 1) b ON true
          WHERE s."caseId" = ${kase.id}::uuid AND s."analysisStatus" <> 'FAILED' AND s."voidedAt" IS NULL
          ORDER BY c."slideId", c.y, c.x, c.id`;
        // No cell to count (every image voided, or failed): no result to sign. An amendment may
        // still close, by retracting the version it supersedes (that version is known wrong, and
        // must not stay the report of record for want of cells); a first report cannot.
        if (cells.length === 0 && !retraction) {
          throw conflict(
            kase.reportVersion > 0
              ? `Case ${kase.accession} has no cells to sign (every image is voided or failed): to withdraw version ${kase.reportVersion} without a result in its place, sign this amendment as "${RETRACTION_MEANING}"; or upload the right images. Nothing was signed`
              : `Case ${kase.accession} has no cells to sign (every image is voided or failed): a first report cannot be retracted, as none was issued; upload this patient's images to the case, or leave it unsigned. Nothing was signed`,
            { cells: 0 },
          );
        }
        // The signer signs what their page showed. Cells are never deleted and review counts only
        // grow, so equal totals mean no one added a cell or a decision since the page loaded.
        const decisions = cells.reduce((n, c) => n + c.reviewCount, 0);
        if (cells.length !== input.seenCells || decisions !== input.seenDecisions) {
          throw conflict(
            `Case ${kase.accession} changed since your page loaded (${cells.length} cells and ${decisions} decisions now, ${input.seenCells} and ${input.seenDecisions} on your page): reload it and check the changes before signing`,
            { cells: cells.length, decisions },
          );
        }
        const undecided = cells.filter((c) => c.reviewCount === 0).length;
        if (undecided > 0) {
          throw conflict(`${undecided} of ${cells.length} cells have no human decision yet`, { undecidedCells: undecided });
        }
        // The label signed is the cache on the cell row (workflow state, writable); the record is
        // the append-only review it caches. A cache that disagrees was changed outside the platform:
        // nothing is signed over it.
        const unrecorded = cells.filter((c) => c.reviewLabel === null || c.reviewLabel !== c.label);
        if (unrecorded.length > 0) {
          throw conflict(
            `${unrecorded.length} cell(s) of case ${kase.accession} show a label their review record does not hold (first: cell ${unrecorded[0]!.id}); nothing was signed: the administrator must check the database`,
            { cellId: unrecorded[0]!.id },
          );
        }

        // Slides whose analysis FAILED, and voided ones, contribute no cells: the signature records
        // that it saw them (a voided one with when, by whom and why).
        const slides = await tx.slide.findMany({
          where: { caseId: kase.id },
          orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          select: { id: true, kind: true, imageSha256: true, analysisStatus: true, voidedAt: true, voidReason: true, voidedBy: { select: { login: true } } },
        });
        const counted = (sl: (typeof slides)[number]) => sl.analysisStatus !== "FAILED" && sl.voidedAt === null;
        const version = kase.reportVersion + 1;
        // The meaning must fit what is signed: an amendment says so, and AI labels changed by the
        // reviewer make it "with corrections" (a plain approval would misstate the report).
        const corrections = cells.filter((c) => c.aiLabel !== null && (c.abstained ? UNIDENTIFIED : c.aiLabel) !== c.label).length;
        const fitting = meaningsFor({ amendment: version > 1, corrected: corrections > 0, empty: cells.length === 0 });
        if (!(fitting as readonly string[]).includes(input.meaning)) {
          const what = [version > 1 ? `an amendment (version ${version})` : "a first report", corrections > 0 ? `with ${corrections} AI label${corrections === 1 ? "" : "s"} changed by the reviewer` : ""].filter(Boolean).join(" ");
          throw badInput(`The meaning "${input.meaning}" does not fit ${what}: sign as ${fitting.map((m) => `"${m}"`).join(" or ")}; nothing was signed`);
        }
        const previous = version > 1 ? await tx.signOff.findUnique({ where: { caseId_version: { caseId: kase.id, version: kase.reportVersion } } }) : null;
        // The reason the open amendment was started with: the signer's page showed it (Case.amendmentReason).
        const amendment = previous ? ((await latestAmendEvents(tx, [kase.id])).get(kase.id) ?? null) : null;
        // A retraction says which version it withdraws and why: both are signed with it.
        if (retraction && (!previous || !amendment?.reason)) {
          throw conflict(
            `Case ${kase.accession} has no ${previous ? "amendment reason" : `signed version ${kase.reportVersion}`} on record: a retraction must name the version it withdraws and why; nothing was signed`,
          );
        }
        // A result again after a retraction: the cells it withdrew (a clotted specimen's, say, whose
        // images stayed) are not silently reported again beside the new ones. Each is counted only
        // once a hematologist decided it again since (the retraction itself was wrong); otherwise its
        // image is voided. Decisions only grow, so a count at or below the retraction's is stale.
        if (!retraction && previous && isRetraction(previous.meaning)) {
          const withdrawn = { decisions: signedDecisions(previous.content) };
          const stale = cells.filter((c) => stillWithdrawn(withdrawn, c));
          if (stale.length > 0) {
            throw conflict(
              `${stale.length} cell(s) of case ${kase.accession} were withdrawn by the retraction signed as version ${previous.version} and have not been decided since (first: cell ${stale[0]!.id}): void their images if they are the withdrawn specimen's, or decide each again if that retraction was itself wrong; nothing was signed`,
              { withdrawnCells: stale.length, cellId: stale[0]!.id },
            );
          }
        }
        // The signature names each model by name and version (what a reader of the report can
        // recognise), beside the id that pins the exact registered weights.
        const modelIds = [...new Set(cells.map((c) => c.modelVersionId).filter((v): v is string => v !== null))].sort();
        const models = await tx.modelVersion.findMany({
          where: { id: { in: modelIds } },
          orderBy: { id: "asc" },
          select: { id: true, name: true, version: true, labels: true },
        });
        const head = await tx.$queryRaw<{ seq: bigint; hash: string }[]>`SELECT seq, hash FROM audit_event ORDER BY seq DESC LIMIT 1`;
        // The database's clock, like the audit trail's: an API host whose clock is off would sign
        // at a time before the audit events it anchors.
        const signedAt = await databaseNow(tx);
        const differential = computeDifferential(
          await caseLabelCounts(tx as PrismaClient, kase.id),
          models.map((m) => m.labels),
        );
        const content = {
          // /2 added `models` ({ id, name, version } per model used); /3 the patient reference, so that
          // a later edit of the case's patientRef cannot move a signed report to another patient;
          // /4 the white-cell differential (platelets, nucleated red cells and unidentified cells
          // out of the denominator, with CAR-T per lymphocytes and a 95% interval), the specimen
          // (what, when drawn, its white-cell count) with absolute counts, and the intended-use
          // statement; /5 each cell's last decision (CONFIRM or RECLASSIFY), its reason (why a
          // cell was left unidentified or the AI overridden) and `bulk` (confirmed with a gallery
          // group of that many), and no absolute counts unless the
          // specimen is peripheral blood counted across smear fields (not hand-picked crops);
          // /6 `differential.cartAssessed`: false where a model that classified the cells has no
          // CAR-T class, and then no CAR-T share, interval or count per µL (null, not 0);
          // /7 `slides[].voided` ({ at, byLogin, reason } for an image voided before signing, whose
          // cells are neither in `cells` nor in the differential; null otherwise) and `comment`: the
          // signer's free-text morphology comment (trimmed, at most 2,000 characters; null for
          // none), each version its own (an amendment signs its own comment, or none); and a
          // cell's `label` may be "blast" (a hematologist's call no model makes), a white cell.
          // /8 `retracted`: true where the signature withdraws the version it supersedes and gives
          // no result ("Amended report: retracted, no valid result"; its cells, none where every
          // image was voided, and their differential stay recorded, not reported), false otherwise.
          // /9: with no white cell counted, every share (row percent, cartPercent, lymphocytePercent)
          // is null, never 0: nothing was measured (/8 and before stored 0 there).
          // Older reports keep their own shape (the hash is over the content as stored, so a new
          // field never touches the verification of a report signed without it).
          schema: "rcmnet.signed-report/10",
          intendedUse: INTENDED_USE,
          case: {
            id: kase.id,
            accession: kase.accession,
            patientRef: kase.patientRef,
            product: kase.product,
            timepoint: kase.timepoint,
            priority: kase.priority,
            specimen: kase.specimen,
            collectedAt: kase.collectedAt?.toISOString() ?? null,
            wbcCount: kase.wbcCount,
          },
          version,
          signer: { id: signer.id, login: signer.login, name: signer.displayName },
          meaning: input.meaning,
          retracted: retraction,
          signedAt: signedAt.toISOString(),
          differential,
          absoluteCounts: absoluteCounts(
            { specimen: kase.specimen, wbcCount: kase.wbcCount, fromCrops: slides.some((sl) => sl.kind === "CROP" && counted(sl)) },
            differential,
          ),
          slides: slides.map((sl) => ({
            id: sl.id,
            kind: sl.kind,
            sha256: sl.imageSha256,
            analysisStatus: sl.analysisStatus,
            voided: sl.voidedAt ? { at: sl.voidedAt.toISOString(), byLogin: sl.voidedBy?.login ?? null, reason: sl.voidReason } : null,
          })),
          modelVersionIds: modelIds,
          models: models.map((m) => ({ id: m.id, name: m.name, version: m.version })),
          cells: cells.map((c) => ({
            id: c.id,
            slideId: c.slideId,
            // What the decision was about (/10): the cell's image and where it lies on its slide,
            // so that verifySignOff notices a cell row changed under the signature.
            crop: c.crop,
            box: [c.x, c.y, c.width, c.height],
            label: c.label,
            decisions: c.reviewCount,
            decidedBy: c.reviewerLogin,
            action: c.reviewAction,
            reason: c.reviewReason,
            // How many cells were confirmed together with this one (a gallery group), else null.
            bulk: c.bulk,
            ai: c.aiLabel === null ? null : { label: c.aiLabel, abstained: c.abstained, modelVersionId: c.modelVersionId },
          })),
          auditAnchor: head[0] ? { seq: head[0].seq.toString(), hash: head[0].hash } : null,
          supersedes: previous ? { id: previous.id, version: previous.version, contentSha256: previous.contentSha256 } : null,
          amendmentReason: amendment?.reason ?? null,
          comment: input.comment,
        };
        const contentSha256 = sha256OfContent(content);
        const signOff = await tx.signOff.create({
          data: {
            caseId: kase.id,
            version,
            signerId: signer.id,
            signerName: signer.displayName,
            meaning: input.meaning,
            signedAt,
            content: content as unknown as Prisma.InputJsonObject,
            contentSha256,
            supersedesId: previous?.id ?? null,
            amendmentReason: amendment?.reason ?? null,
          },
        });
        // Both components given: this session's later signatures continue the series (committed
        // with the signature, so a refused one opens nothing).
        if (session && input.login !== undefined) {
          await tx.apiSession.updateMany({ where: { tokenSha256: session.tokenSha256, userId: signer.id, signatureSeriesAt: null }, data: { signatureSeriesAt: signedAt } });
        }
        // The session row is the only other record of how this signature was made, and ended
        // sessions are deleted once expired (auth/sessions.ts): the audit event keeps it (11.200).
        // Read after the update above, so a series opened by a concurrent signature is the one named.
        const signature = {
          components: (input.login !== undefined ? "id+password" : "password") satisfies SignatureComponents,
          seriesStartedAt: (await signatureSeriesStart(tx, signer.id, session))?.toISOString() ?? null,
        };
        await tx.case.update({
          where: { id: kase.id },
          data: { status: version === 1 ? "SIGNED_OUT" : "AMENDED", reportVersion: version },
        });
        await recordAudit(tx, actor, {
          action: "case.sign_off",
          entityType: "Case",
          entityId: kase.id,
          before: { status: kase.status, reportVersion: kase.reportVersion },
          after: {
            status: version === 1 ? "SIGNED_OUT" : "AMENDED",
            reportVersion: version,
            signOffId: signOff.id,
            contentSha256,
            meaning: input.meaning,
            // The trail says a report was withdrawn without anyone reading the signed content.
            retracted: retraction,
            accession: kase.accession,
            signature,
          },
        });
        return signOff;
      },
      { timeout: 30_000 },
    );
  } catch (err) {
    // Two signers racing on one case: (caseId, version) is unique.
    if (isUniqueViolation(err)) throw conflict("The case was signed by someone else meanwhile");
    throw err;
  }
}
