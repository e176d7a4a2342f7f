"use client";
// Any page of the signed-in app whose data could not be loaded (the API down or answering
// with an error) shows this in place of the page, inside the navigation, with a retry.
// Sign-in, 403 and 404 are not errors here: they redirect or render their own pages.
// There is deliberately no loading.tsx beside it: a Suspense boundary there streams every page,
// so the HTTP status is sent (200) before a page's role check can answer 403 or 404.
import Link from "next/link";

export default function PageError({ error, retry }: { error: unknown; retry: () => void }) {
  // A server-side failure reaches the browser as a generic message and a digest (no internals);
  // the digest matches the server's log line, so it is what a user can quote to support.
  const digest = typeof error === "object" && error && "digest" in error ? String((error as { digest: unknown }).digest) : null;
  return (
    <div className="panel" role="alert" data-testid="page-error">
      <h1>This page could not be loaded</h1>
      <p>
        The data behind it is not available right now. Nothing was changed. Try again; if it keeps failing, tell your
        administrator{digest ? ` and quote reference ${digest}` : ""}.
      </p>
      <div className="row">
        <button type="button" className="primary" onClick={retry} data-testid="page-error-retry">
          Try again
        </button>
        <Link href="/worklist">Back to the worklist</Link>
      </div>
    </div>
  );
}
