"use client";
// Native <dialog> as a modal: focus trap, Escape and the backdrop come from the browser.
import { useEffect, useRef, type ReactNode } from "react";

export function Modal({ open, onClose, label, children, testId }: { open: boolean; onClose: () => void; label: string; children: ReactNode; testId?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  // What the page holds now, for the close event: a browser may close the dialog itself (Chromium
  // does on a second Escape with no other input between, whatever preventDefault said).
  const openNow = useRef(open);
  openNow.current = open;
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) {
      d.showModal();
      // React's autoFocus runs when the content mounts, before the dialog is open (nothing can take
      // focus then), and showModal() then focuses the first control, often Cancel: the control
      // marked data-autofocus gets it instead.
      d.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    }
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-label={label}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClose={() => {
        if (!openNow.current) return;
        // Closed by the browser, not by the page: asked to close as Escape would, and shown again
        // if the page keeps it open (a signature under way), rather than left hidden but mounted.
        onClose();
        requestAnimationFrame(() => {
          const d = ref.current;
          if (d && openNow.current && !d.open) d.showModal();
        });
      }}
    >
      {open ? children : null}
    </dialog>
  );
}
