// The signed content is JSON written by the API at sign-off ("rcmnet.signed-report/10": each
// cell's crop hash and box, for verifySignOff; /9: every share
// null where no white cell was counted, 0 before; /8 added
// `retracted`: true where the version withdraws the one it supersedes and reports no valid result,
// its cells, if any, recorded but not a result; /7 added
// `slides[].voided` ({ at, byLogin, reason }: an image voided before signing, whose cells are not
// in the report; older reports have no voided images) and `comment` (the signer's morphology
// comment, or null; /7 reports signed before it have no such key); /6 added
// `differential.cartAssessed`: false, with null CAR-T figures, where a model that classified the
// cells has no CAR-T class; /5 added each cell's decision, its reason and whether it was confirmed with a gallery group, and limited
// absolute counts to peripheral blood from smear fields; /4 is the same shape without those; /3
// counted platelets, nucleated red cells and unidentified cells among the cells and had no intended-use
// statement, /2 had no `case.patientRef`, /1 no `models`, only `modelVersionIds`). It is
// read defensively: a signed report must render even if later versions of the shape grow.

import { isRetraction } from "@rcmnet/api/signOffMeanings";
import { CART_LABEL, isUnidentified } from "@/lib/differential";

export interface ReportContent {
  /**
   * White-cell rows, then the classes outside the denominator (`excluded`, no share). A white-cell
   * row's share is null where no white cell was counted (nothing measured; reports signed before
   * that have 0 there, read as signed).
   */
  rows: { label: string; count: number; percent: number | null; excluded: boolean }[];
  total: number | null;
  counted: number | null;
  modelVersionIds: string[];
  /** Models used, named as signed ("name version"); `name` is null in /1 reports, which signed ids only. */
  models: { id: string; name: string | null }[];
  corrections: number | null;
  /**
   * Whose decisions the count holds: each reviewer's login with the cells they last decided, most
   * first (a resident's and an attending's calls side by side); null where cells carry no decider.
   */
  decidedBy: { login: string; cells: number }[] | null;
  /**
   * Cells confirmed with a whole gallery group rather than one by one, and the CAR-T cells among
   * them (/5); null in older reports, which did not sign it.
   */
  groupConfirmed: { cells: number; cart: number } | null;
  /** Why cells were left unidentified (out of the count), by reason as signed (/5); null before. */
  unidentifiedReasons: { reason: string; count: number }[] | null;
  /** Each signed cell's label by cell id (what an amendment is compared with); null if absent. */
  cellLabels: Record<string, string> | null;
  cartPercent: number | null;
  /** CAR-T cells counted (/4 on; null before). */
  cartCount: number | null;
  /**
   * Whether the cells were screened for CAR-T (/6 signs it; older reports were signed with CAR-T
   * figures, so true).
   */
  cartAssessed: boolean;
  /**
   * The white-cell figures of /4 reports; null in older ones, whose percentages are of every
   * labelled cell but artifacts (shown as they were signed).
   */
  whiteCells: {
    cartPercentCi95: [number, number] | null;
    lymphocytePercent: number | null;
    cartPercentOfLymphocytes: number | null;
    nrbcPer100Wbc: number | null;
    belowMinimum: boolean;
  } | null;
  /** What the result may be used for, as signed (/4); null in older reports. */
  intendedUse: string | null;
  /** The case as signed: a later edit of the live case (during an amendment) never shows here. */
  /** patientRef: as signed (/3), null in older reports and for roles that may not see it. */
  case: {
    accession: string | null;
    patientRef: string | null;
    product: string | null;
    timepoint: string | null;
    /** The specimen as signed (/4); null in older reports or when not recorded. */
    specimen: string | null;
    collectedAt: string | null;
    wbcCount: number | null;
  };
  /** The case details this version signed at all (older versions lack some: not "changed" from none). */
  caseKeys: string[];
  /** Cells per µL from the specimen's white-cell count (/4, when one was recorded). */
  /** cartPerUl is null where CAR-T was not assessed (/6). */
  absoluteCounts: { wbcPerUl: number; cartPerUl: number | null; cartPerUlCi95: [number, number] | null; lymphocytesPerUl: number } | null;
  /** Images in the signed case and how many of them failed analysis (contributing no cells). */
  /** Images in the signed case by kind (smear fields, single-cell crops), and how many failed. */
  /** fieldsCounted, cropsCounted: those neither failed nor voided, i.e. that contributed cells. */
  /** voided: images voided before signing (/7), with who voided each (login), when and why. */
  slides: {
    total: number;
    failed: number;
    fields: number;
    crops: number;
    fieldsCounted: number;
    cropsCounted: number;
    voided: { byLogin: string | null; at: string | null; reason: string | null }[];
  } | null;
  /**
   * The signer's free-text comment as signed (/7; a retraction's note on the retraction); null where
   * none was given, and where withheld (SignOff.withheld tells which).
   */
  comment: string | null;
  /** The signature's manifestation as signed (name, login, time, meaning); null where absent. */
  signature: { name: string | null; login: string | null; signedAt: string | null; meaning: string | null };
  /**
   * This version retracts the one it supersedes: no valid result (/8 `retracted`, or the
   * retraction's meaning where the flag is missing: read as retracted, the safe side; the server's
   * verification names such a record). False for every report signed before /8.
   */
  retracted: boolean;
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** An interval as signed: exactly two numbers, else none. */
function pair(v: unknown): [number, number] | null {
  if (!Array.isArray(v) || v.length !== 2) return null;
  const [lo, hi] = v.map(num);
  return lo !== null && lo !== undefined && hi !== null && hi !== undefined ? [lo, hi] : null;
}

/** Cells per signed decider (cells[].decidedBy, the login of each cell's last decision). */
export function decidersOf(cells: Record<string, unknown>[] | null): { login: string; cells: number }[] | null {
  if (!cells) return null;
  const counts = new Map<string, number>();
  for (const cell of cells) if (typeof cell.decidedBy === "string") counts.set(cell.decidedBy, (counts.get(cell.decidedBy) ?? 0) + 1);
  if (counts.size === 0) return null;
  return [...counts].map(([login, n]) => ({ login, cells: n })).sort((a, b) => b.cells - a.cells || a.login.localeCompare(b.login));
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

export function readReportContent(raw: unknown): ReportContent {
  const c = obj(raw);
  const diff = obj(c.differential);
  const rows = (Array.isArray(diff.rows) ? diff.rows : []).flatMap((r) => {
    const o = obj(r);
    return typeof o.label === "string" ? [{ label: o.label, count: num(o.count) ?? 0, percent: num(o.percent), excluded: false }] : [];
  });
  // Outside the denominator: by label since /4, only artifacts before.
  if (Array.isArray(diff.excluded)) {
    for (const e of diff.excluded.map(obj)) if (typeof e.label === "string") rows.push({ label: e.label, count: num(e.count) ?? 0, percent: null, excluded: true });
  } else {
    const artifacts = num(diff.artifacts);
    if (artifacts) rows.push({ label: "artifact", count: artifacts, percent: null, excluded: true });
  }
  const whiteCells = Array.isArray(diff.excluded)
    ? {
        cartPercentCi95: pair(diff.cartPercentCi95),
        lymphocytePercent: num(diff.lymphocytePercent),
        cartPercentOfLymphocytes: num(diff.cartPercentOfLymphocytes),
        nrbcPer100Wbc: num(diff.nrbcPer100Wbc),
        belowMinimum: diff.belowMinimum === true,
      }
    : null;
  const cells = Array.isArray(c.cells) ? c.cells.map(obj) : null;
  const corrections = cells
    ? cells.filter((cell) => {
        const ai = cell.ai === null || cell.ai === undefined ? null : obj(cell.ai);
        if (!ai) return false;
        const aiLabel = ai.abstained === true ? "unidentified" : ai.label;
        return aiLabel !== cell.label;
      }).length
    : null;
  const modelVersionIds = (Array.isArray(c.modelVersionIds) ? c.modelVersionIds : []).filter((x): x is string => typeof x === "string");
  const named = new Map<string, string>();
  for (const m of Array.isArray(c.models) ? c.models.map(obj) : []) {
    if (typeof m.id === "string" && typeof m.name === "string") named.set(m.id, typeof m.version === "string" ? `${m.name} ${m.version}` : m.name);
  }
  const ids = [...new Set([...modelVersionIds, ...named.keys()])];
  const kase = obj(c.case);
  const slides = Array.isArray(c.slides) ? c.slides.map(obj) : null;
  const signer = obj(c.signer);
  return {
    rows,
    total: num(diff.total),
    counted: num(diff.counted),
    modelVersionIds,
    models: ids.map((id) => ({ id, name: named.get(id) ?? null })),
    corrections,
    decidedBy: decidersOf(cells),
    unidentifiedReasons: reasonsLeftUnidentified(cells),
    groupConfirmed: cells?.some((cell) => "bulk" in cell)
      ? (() => {
          const grouped = cells.filter((cell) => typeof cell.bulk === "number");
          return { cells: grouped.length, cart: grouped.filter((cell) => typeof cell.label === "string" && CART_LABEL.test(cell.label)).length };
        })()
      : null,
    cellLabels: cells ? Object.fromEntries(cells.flatMap((cell) => (typeof cell.id === "string" && typeof cell.label === "string" ? [[cell.id, cell.label]] : []))) : null,
    cartPercent: num(diff.cartPercent),
    cartCount: num(diff.cartCount),
    cartAssessed: diff.cartAssessed !== false,
    whiteCells,
    intendedUse: str(c.intendedUse),
    case: {
      accession: str(kase.accession),
      patientRef: str(kase.patientRef),
      product: str(kase.product),
      timepoint: str(kase.timepoint),
      specimen: str(kase.specimen),
      collectedAt: str(kase.collectedAt),
      wbcCount: num(kase.wbcCount),
    },
    caseKeys: Object.keys(kase),
    absoluteCounts: (() => {
      const a = obj(c.absoluteCounts);
      const [wbcPerUl, cartPerUl, lymphocytesPerUl] = [num(a.wbcPerUl), num(a.cartPerUl), num(a.lymphocytesPerUl)];
      const cartOk = cartPerUl !== null || diff.cartAssessed === false;
      return wbcPerUl !== null && cartOk && lymphocytesPerUl !== null ? { wbcPerUl, cartPerUl, cartPerUlCi95: pair(a.cartPerUlCi95), lymphocytesPerUl } : null;
    })(),
    slides: slides
      ? (() => {
          const isVoided = (s: Record<string, unknown>) => s.voided !== null && s.voided !== undefined;
          const counted = slides.filter((s) => s.analysisStatus !== "FAILED" && !isVoided(s));
          return {
            total: slides.length,
            failed: slides.filter((s) => s.analysisStatus === "FAILED" && !isVoided(s)).length,
            fields: slides.filter((s) => s.kind === "FIELD").length,
            crops: slides.filter((s) => s.kind === "CROP").length,
            fieldsCounted: counted.filter((s) => s.kind === "FIELD").length,
            cropsCounted: counted.filter((s) => s.kind === "CROP").length,
            voided: slides.filter(isVoided).map((s) => {
              const v = obj(s.voided);
              return { byLogin: str(v.byLogin), at: str(v.at), reason: str(v.reason) };
            }),
          };
        })()
      : null,
    signature: { name: str(signer.name), login: str(signer.login), signedAt: str(c.signedAt), meaning: str(c.meaning) },
    comment: str(c.comment)?.trim() || null,
    retracted: c.retracted === true || isRetraction(str(c.meaning)),
  };
}

/** The reasons signed for cells left unidentified, most frequent first; null where none were signed (before /5). */
function reasonsLeftUnidentified(cells: Record<string, unknown>[] | null): { reason: string; count: number }[] | null {
  if (!cells?.some((c) => "reason" in c)) return null;
  const counts = new Map<string, number>();
  for (const c of cells) {
    if (typeof c.label !== "string" || !isUnidentified(c.label)) continue;
    const reason = str(c.reason) ?? "no reason recorded";
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** The case details an amendment may change, as the report names them, with how each is written. */
const DETAILS: { key: keyof ReportContent["case"]; name: string; show: (v: string | number) => string; withheldName?: string }[] = [
  { key: "patientRef", name: "patient", show: String, withheldName: "patient reference" },
  { key: "product", name: "product", show: String },
  { key: "timepoint", name: "timepoint", show: String },
  { key: "specimen", name: "specimen", show: String },
  { key: "collectedAt", name: "collected", show: (v) => String(v).replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC"), withheldName: "collection time" },
  { key: "wbcCount", name: "WBC", show: (v) => `${v} ×10⁹/L` },
];

/**
 * What an amendment changed, from the two signed contents: cells whose label differs, the
 * classes whose count moved (white cells and the others alike), in the later version's row order,
 * the case details that changed (a corrected white-cell count moves every absolute figure
 * without moving a single cell), and whether the morphology comment did (each version signs its own).
 * `withheld`: the fields the API withheld from the reader in either version (SignOff.withheld's
 * names, "case.patientRef", "comment"): those are listed in `withheld`, never compared (a null for
 * a value would read "unchanged", or "removed").
 */
export function changesSince(
  previous: ReportContent,
  current: ReportContent,
  { withheld: withheldFields = [] }: { withheld?: readonly string[] } = {},
): {
  relabelled: number | null;
  counts: { label: string; before: number; after: number }[];
  details: { name: string; before: string; after: string }[];
  /** How the morphology comment changed (a report signed before comments had none); null where it did not. */
  comment: "added" | "changed" | "removed" | null;
  /** What could not be compared for the reader's role ("patient reference", "morphology comment"), as the report names it. */
  withheld: string[];
} {
  const countOf = (c: ReportContent) => new Map(c.rows.map((r) => [r.label, r.count]));
  const [before, after] = [countOf(previous), countOf(current)];
  const labels = [...new Set([...current.rows.map((r) => r.label), ...previous.rows.map((r) => r.label)])];
  const counts = labels.map((label) => ({ label, before: before.get(label) ?? 0, after: after.get(label) ?? 0 })).filter((c) => c.before !== c.after);
  const [p, q] = [previous.cellLabels, current.cellLabels];
  const relabelled = p && q ? Object.keys(q).filter((id) => id in p && p[id] !== q[id]).length : null;
  const withheld: string[] = [];
  const details = DETAILS.flatMap(({ key, name, show, withheldName }) => {
    if (!previous.caseKeys.includes(key) || !current.caseKeys.includes(key)) return [];
    if (withheldFields.includes(`case.${key}`)) {
      withheld.push(withheldName ?? name);
      return [];
    }
    const [b, a] = [previous.case[key], current.case[key]];
    return b === a ? [] : [{ name, before: b === null ? "none" : show(b), after: a === null ? "none" : show(a) }];
  });
  // Either version may have signed one (the other none, or signed before comments existed).
  const commentWithheld = withheldFields.includes("comment");
  if (commentWithheld) withheld.push("morphology comment");
  const [cb, ca] = [previous.comment, current.comment];
  const comment = commentWithheld || cb === ca ? null : cb === null ? "added" : ca === null ? "removed" : "changed";
  return { relabelled, counts, details, comment, withheld };
}
