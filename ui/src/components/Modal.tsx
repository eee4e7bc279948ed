import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

interface Props {
  title: string;
  /** id of the title element (for aria-labelledby). */
  titleId: string;
  testId: string;
  onClose: () => void;
  /** While true, Escape does not close (a step is running). */
  busy?: boolean;
  wide?: boolean;
  children: ComponentChildren;
}

/**
 * A modal dialog on the native <dialog> element: focus moves into it, stays inside
 * (the rest of the page is inert), Escape closes it, and focus returns to where it was.
 */
export function Modal({ title, titleId, testId, onClose, busy, wide, children }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const busyRef = useRef(busy);
  busyRef.current = busy;

  useEffect(() => {
    const dialog = ref.current;
    const before = document.activeElement as HTMLElement | null;
    if (dialog && !dialog.open) dialog.showModal();
    return () => {
      if (dialog?.open) dialog.close();
      before?.focus?.();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      class={wide ? 'modal modal-wide' : 'modal'}
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        if (!busyRef.current) onClose();
      }}
    >
      <header class="modal-header">
        <h2 id={titleId} class="modal-title">
          {title}
        </h2>
        <button
          type="button"
          class="btn btn-ghost btn-small"
          aria-label={`Close ${title}`}
          disabled={busy}
          data-testid={`${testId}-close`}
          onClick={onClose}
        >
          Close
        </button>
      </header>
      <div class="modal-body">{children}</div>
    </dialog>
  );
}
