// How the report page and its printout tell a retraction: a signed version that withdraws the one
// before it and reports no valid result (the smears were another patient's, the specimen unusable).
// The withdrawn versions stay readable as signed (21 CFR 11.10(e)), so each must say, on screen and
// on paper, that it may not be used; a retraction must never read like a result of zero cells.

/** A signed version as the page lists it. */
export interface VersionState {
  version: number;
  retracted: boolean;
}

/**
 * The banner of a retracted version: what it withdrew, and that it gives nothing in its place.
 * `supersedes`: the version it retracts (null where the signed content does not say).
 */
export function retractionBanner(version: number, supersedes: number | null): string {
  const withdrawn = supersedes ?? version - 1;
  const before = withdrawn > 1 ? ", nor any version before it," : "";
  return `Retracted: no valid result. Version ${withdrawn} of this report${before} must not be used; this version (${version}) gives no result in its place.`;
}

/**
 * What a version that is not the report of record says about the retraction after it: withdrawn by
 * the current version, or by a later one since superseded in turn; null where no retraction
 * followed it.
 */
export function withdrawnNotice(shown: number, versions: readonly VersionState[]): string | null {
  const latest = Math.max(...versions.map((v) => v.version));
  if (shown >= latest) return null;
  const retraction = versions.filter((v) => v.retracted && v.version > shown).sort((a, b) => a.version - b.version)[0];
  if (!retraction) return null;
  if (retraction.version === latest) {
    return `Withdrawn: version ${retraction.version} retracted this report (no valid result). This version must not be used.`;
  }
  return `Withdrawn: version ${retraction.version} retracted this report (no valid result); version ${latest} is the report of record. This version must not be used.`;
}

/** How the version list names a version: "current", "superseded", and what a retraction did. */
export function versionStatus(v: VersionState, versions: readonly VersionState[]): string {
  const latest = Math.max(...versions.map((x) => x.version));
  if (v.version === latest) return v.retracted ? "current: retracted, no valid result" : "current";
  if (versions.some((x) => x.version === v.version + 1 && x.retracted)) return "superseded by a retraction";
  return v.retracted ? "retraction, superseded" : "superseded";
}

/** "superseded by version 3" on a withdrawn version's header, naming a retraction as one. */
export function supersededBadge(latest: VersionState): string {
  return `superseded by version ${latest.version}${latest.retracted ? " (a retraction: no valid result)" : ""}`;
}

/**
 * Said where the differential would be: a retraction reports none. Its cells, where it kept any,
 * are recorded with the signature, not reported.
 */
export function noResultText(cells: number | null): string {
  if (!cells) return "No valid result: this version reports no differential count. No cell was counted (every image of the case was voided or failed).";
  return `No valid result: this version reports no differential count. The ${cells} cell${cells === 1 ? "" : "s"} reviewed stay recorded with the signature, not as a result.`;
}

/** The notice while an amendment is open: the report of record meanwhile, said to be a retraction where it is one. */
export function amendingNotice(reportVersion: number, current: VersionState | undefined): string {
  const what = current?.retracted ? ` (a retraction: no valid result)` : "";
  return `An amendment is in progress: version ${reportVersion + 1} is being prepared. Version ${reportVersion}${what} stays the report of record until the amendment is signed.`;
}

/**
 * The heading of a version's signed comment: a retraction reports no morphology, so its comment is
 * a note on the retraction, never printed as a "Morphology comment" under "no valid result".
 */
export function commentHeading(retracted: boolean): string {
  return retracted ? "Note on the retraction" : "Morphology comment";
}

/**
 * The header row naming the models. On a result: the models whose calls the count's decisions
 * were made on. A retraction reports none, so the row says the models called only the cells it
 * recorded, never reading as if a model had produced a result; with no cell recorded (every image
 * voided or failed) there is nothing to name and no row.
 */
export function modelsRow(retracted: boolean, names: readonly string[]): { heading: string; text: string } | null {
  if (!retracted) return { heading: "Model version(s)", text: names.length ? names.join(", ") : "—" };
  if (!names.length) return null;
  return { heading: "Model version(s) of the recorded cells", text: `${names.join(", ")}: AI calls on the cells recorded with this retraction, not a result` };
}
