"use client";
import { ApiError, defaultMessage, fromGraphQLErrors } from "./errors";
import { leaveEndedSession } from "./gql";

/**
 * Downloads a file one of this app's routes serves, through the page rather than a plain link
 * (held in the tab until it is saved: fine for an audit export of some hundred MB, no more):
 * a refusal (session ended, wrong role, the API down) is then told on the page, or leads to the
 * session-ended page, instead of failing in the browser's download list or saving the error as
 * the file. Resolves to the response's headers once the file is handed to the browser (what the
 * page may tell about it, e.g. an audit export's chain verdict), or null when it went to sign-in.
 */
export async function downloadFrom(url: string, fallbackName: string): Promise<Headers | null> {
  const res = await fetch(url);
  if (!res.ok) {
    // Not this app's JSON error (a proxy's HTML page, say): its text is not shown.
    const code = res.status >= 500 ? "UNAVAILABLE" : "INTERNAL";
    const error = (res.headers.get("content-type") ?? "").includes("json")
      ? fromGraphQLErrors(((await res.json().catch(() => ({}))) as { errors?: [] }).errors ?? [], res.status)
      : new ApiError(code, `${defaultMessage(code)} (HTTP ${res.status})`, res.status);
    if (error.code === "UNAUTHENTICATED") {
      leaveEndedSession(error.reason);
      return null;
    }
    throw error;
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? fallbackName;
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
  return res.headers;
}
