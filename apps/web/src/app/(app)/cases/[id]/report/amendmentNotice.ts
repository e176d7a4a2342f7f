// The line under a report's header when the version amends an earlier one: what it amends, why,
// and what changed since. Changes are listed only between two results: a retraction changed no
// count into another (it withdrew them all), and a version after a retraction has no result before
// it to compare with, though the retraction's signed content may still hold a differential (its
// kept cells, or every class at 0) and a note on the retraction: listed as changes, those would
// present the retraction as a report of zeros, and its note as a morphology comment.
import { labelName } from "@/lib/labels";
import { WITHHELD } from "@/lib/patientRef";
import { changesSince, type ReportContent } from "./content";

/** A signed version as the report page reads it. */
export interface SignedVersion {
  content: ReportContent;
  retracted: boolean;
  /** The content fields the API withheld from this reader (SignOff.withheld). */
  withheld: readonly string[];
}

export interface AmendmentNotice {
  /** "Amendment of version 1. Reason: …" */
  lead: string;
  /** "Changed since then: …", null where nothing is compared. */
  changes: string | null;
  /** Why nothing is compared where the amended version is a retraction; null otherwise. */
  uncompared: string | null;
}

/**
 * The notice of `shown`, which amends version `amended` (`previous`: that version as signed, null
 * where the page does not have it); `reason`: the amendment's reason as the reader may see it.
 */
export function amendmentNotice({
  amended,
  previous,
  shown,
  reason,
}: {
  amended: number;
  previous: SignedVersion | null;
  shown: SignedVersion;
  reason: string;
}): AmendmentNotice {
  const replacesRetraction = !shown.retracted && previous?.retracted === true;
  const lead = `${shown.retracted ? "Retraction" : "Amendment"} of version ${amended}${replacesRetraction ? " (a retraction: no valid result)" : ""}. Reason: ${reason}`;
  if (replacesRetraction) return { lead, changes: null, uncompared: "It replaces a retraction: no earlier result to compare." };
  if (shown.retracted || !previous) return { lead, changes: null, uncompared: null };
  // Roles that may not see patient data get the contents without it: what either version signed of
  // it is not compared.
  const c = changesSince(previous.content, shown.content, { withheld: [...previous.withheld, ...shown.withheld] });
  const changes = [
    c.relabelled !== null ? `${c.relabelled} cell${c.relabelled === 1 ? "" : "s"} relabelled` : "cells not compared",
    c.counts.length ? c.counts.map((x) => `${labelName(x.label)} ${x.before} → ${x.after}`).join(", ") : "no class count moved",
    c.details.length ? `case details: ${c.details.map((d) => `${d.name} ${d.before} → ${d.after}`).join(", ")}` : "",
    c.comment ? `morphology comment ${c.comment}` : "",
    c.withheld.length ? `${c.withheld.join(", ")}: ${WITHHELD}` : "",
  ].filter(Boolean);
  return { lead, changes: `Changed since then: ${changes.join("; ")}.`, uncompared: null };
}
