import Link from "next/link";

export default function NotFound() {
  return (
    <main>
      <div className="panel" data-testid="not-found">
        <h1>Not found</h1>
        <p>This page or record does not exist, or it is not visible to your role.</p>
        <Link href="/worklist">Back to the worklist</Link>
      </div>
    </main>
  );
}
