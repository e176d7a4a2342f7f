"use client";
// Native <dialog> as a modal: focus trap, Escape and the backdrop come from the browser.
import { useEffect, useRef, type ReactNode } from "react";

export function Modal({ open, onClose, label, children, testId }: { open: boolean; onClose: () => void; label: string; children: ReactNode; testId?: string }) {
  const ref = useRef<HTMLDialogElement>(null);
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
    >
      {open ? children : null}
    </dialog>
  );
}
