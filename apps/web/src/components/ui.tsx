"use client";
import type { ReactNode } from "react";

export function ErrorBox({ error, testId = "error", id }: { error: string | null | undefined; testId?: string; id?: string }) {
  if (!error) return null;
  return (
    <p className="error" role="alert" data-testid={testId} id={id}>
      {error}
    </p>
  );
}

export function Empty({ children, testId = "empty" }: { children: ReactNode; testId?: string }) {
  return (
    <div className="empty" data-testid={testId}>
      {children}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export { formatDateTime, percent } from "@/lib/format";
