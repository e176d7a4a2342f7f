"use client";
// The print footer's "Printed at … by …": the time is taken when the browser prints (beforeprint),
// not when the page was rendered, since a report tab may stay open for hours before it is printed.
import { useEffect, useState } from "react";
import { printedLine } from "./printing";

/** `renderedAt`: the server's render time, shown until the browser prints (the same text on both sides of hydration). */
export function PrintedStamp({ name, login, renderedAt }: { name: string; login: string; renderedAt: string }) {
  const [at, setAt] = useState(() => new Date(renderedAt));
  useEffect(() => {
    const now = () => setAt(new Date());
    window.addEventListener("beforeprint", now);
    return () => window.removeEventListener("beforeprint", now);
  }, []);
  return (
    <p className="print-only muted" style={{ fontSize: "0.75rem", marginBottom: 0 }} data-testid="report-printed">
      {printedLine(at, name, login)}
    </p>
  );
}
