import Link from "next/link";

// Rendered with HTTP 403 by forbidden() when a signed-in user opens a page outside their role.
export default function Forbidden() {
  return (
    <main>
      <div className="panel" data-testid="forbidden" role="alert">
        <h1>403 — Not permitted for your role</h1>
        <p>Your account is signed in, but its role does not include this page. Access decisions are recorded.</p>
        <p>
          <Link href="/worklist">Back to the worklist</Link>
        </p>
      </div>
    </main>
  );
}
