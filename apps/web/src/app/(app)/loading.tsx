// Shown while a page of the signed-in app loads its data (a large case's review page reads
// its cells in pages of 500 before it can render).
export default function Loading() {
  return (
    <div className="panel" role="status" aria-live="polite" data-testid="page-loading">
      <p style={{ margin: 0 }}>Loading…</p>
      <progress aria-label="Loading" />
    </div>
  );
}
