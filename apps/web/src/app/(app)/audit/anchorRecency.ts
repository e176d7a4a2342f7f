import { formatDateTime } from "@/lib/format";

/** The verdict's `anchorRecency` (the API's AnchorRecency): whether anchoring is alive. */
export interface AnchorRecency {
  checked: boolean;
  anchorMinutes: number;
  intervalDeclared: boolean;
  graceMinutes: number | null;
  lastWrittenAt: string | null;
  unanchoredFromSeq: string | null;
  unanchoredToSeq: string | null;
  unanchoredSince: string | null;
  stoppedCleanly: boolean;
  writerSilent: boolean;
  writtenInFuture: boolean;
  intervalTooLong: boolean;
  eventsOverdue: boolean;
  overdue: boolean;
  problem: string | null;
}

/**
 * Whether the recency fails the verdict: shown as such ("badge bad"). Every failing state sets
 * `problem` (the API's rule); the flags are named too, so that none can pass as a quiet line.
 */
export function anchorRecencyFails(r: AnchorRecency): boolean {
  return r.overdue || r.writtenInFuture || r.intervalTooLong || r.problem !== null;
}

/**
 * Whether anchoring is alive (stopped also fails the verdict), said in one summary and a detail
 * line. The summary: what fails (stopped, clocks out of sync, an interval longer than the API's),
 * then, unless stopped, the events' state (a clean stop, every event anchored, or the events
 * awaiting their anchor with the time by which it is due). The detail: the interval judged by and
 * who set it, and when the anchor file's newest line was written (unless the summary says it).
 * Not checked (anchoring off): said, as the anchors then say nothing about events after the
 * newest. The verdict's `problem` (what since when, what to check) is shown in the verdict's own
 * badge, so it is not repeated here.
 */
export function anchorRecency(r: AnchorRecency): { summary: string; detail: string | null } {
  if (!r.checked) {
    return {
      summary: r.problem
        ? "anchoring NOT CHECKED although it was on (RCMNET_AUDIT_ANCHOR_MINUTES 0 on the API)"
        : "anchoring off: not checked that new events get anchored",
      detail: null,
    };
  }
  const grace = r.graceMinutes ?? 0;
  const lastWritten = r.lastWrittenAt ? formatDateTime(r.lastWrittenAt) : null;
  const events = r.unanchoredFromSeq === r.unanchoredToSeq ? `event ${r.unanchoredFromSeq}` : `events ${r.unanchoredFromSeq}–${r.unanchoredToSeq}`;
  const since = r.unanchoredSince ? formatDateTime(r.unanchoredSince) : "?";
  // The deadline as a time: the first unanchored event's, plus the grace period.
  const due = () => {
    const at = r.unanchoredSince ? Date.parse(r.unanchoredSince) + grace * 60_000 : Number.NaN;
    return Number.isNaN(at) ? "?" : formatDateTime(new Date(at).toISOString());
  };
  let timeSaid = false;

  const parts: string[] = [];
  if (r.writerSilent) {
    parts.push(`ANCHORING STOPPED: nothing written to the anchor file since ${lastWritten ?? "?"} (over ${grace} min)`);
    timeSaid = true;
  }
  if (r.eventsOverdue) parts.push(`${r.writerSilent ? "" : "ANCHORING STOPPED: "}${events} unanchored since ${since}${r.writerSilent ? "" : ` (over ${grace} min)`}`);
  if (r.writtenInFuture) {
    parts.push(`CLOCKS OUT OF SYNC: the anchor file's newest line is dated ${lastWritten ?? "?"}, ahead of the API host's clock`);
    timeSaid = true;
  }
  if (r.intervalTooLong) parts.push("INTERVAL TOO LONG: the anchor file declares a longer interval than the API's setting, which is used instead");
  if (!r.overdue) {
    if (r.stoppedCleanly) {
      parts.push(`anchoring worker stopped cleanly${timeSaid || !lastWritten ? "" : ` at ${lastWritten}`}; no events since`);
      timeSaid ||= lastWritten !== null;
    } else if (r.unanchoredFromSeq === null) parts.push("every event anchored");
    else parts.push(`${events} since ${since} await their anchor (due by ${due()})`);
  }

  const interval = `anchored every ${r.anchorMinutes} min (${r.intervalDeclared ? "declared by the anchor file" : "the API's setting"})`;
  const newest = timeSaid ? "" : lastWritten ? `; anchor file's newest line written ${lastWritten}` : "; no line in the anchor file yet";
  return { summary: parts.join("; "), detail: `${interval}${newest}` };
}
