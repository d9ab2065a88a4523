// Modal dialogs on the native <dialog> element (focus trapped, Escape closes),
// confirmation before destructive actions, and toasts.
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from "react";

/** A modal dialog, open while mounted with `open`. */
export function Modal(props: { open: boolean; title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!props.open || !d) return;
    // The dialog leaves the DOM when it closes; give focus back to what opened it.
    const opener = document.activeElement as HTMLElement | null;
    if (!d.open) d.showModal();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, [props.open]);
  if (!props.open) return null;
  return (
    <dialog
      ref={ref}
      className={props.wide ? "modal wide" : "modal"}
      aria-labelledby="modal-title"
      onCancel={(e) => {
        e.preventDefault();
        props.onClose();
      }}
    >
      <header className="modal-head">
        <h2 id="modal-title">{props.title}</h2>
        <button type="button" className="btn ghost icon" aria-label="Close" onClick={props.onClose}>
          ×
        </button>
      </header>
      <div className="modal-body">{props.children}</div>
    </dialog>
  );
}

interface ConfirmOptions {
  title: string;
  message: ReactNode;
  confirmLabel?: string;
  danger?: boolean;
}

type Confirm = (o: ConfirmOptions) => Promise<boolean>;
const ConfirmContext = createContext<Confirm>(async () => false);
const ToastContext = createContext<(text: string, tone?: "good" | "bad") => void>(() => {});

interface Toast {
  id: number;
  text: string;
  tone: "good" | "bad";
}

/** Provides `useConfirm` and `useToast` to the app. */
export function Feedback({ children }: { children: ReactNode }) {
  const [pending, setPending] = useState<(ConfirmOptions & { resolve: (ok: boolean) => void }) | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const confirm = useCallback<Confirm>((o) => new Promise((resolve) => setPending({ ...o, resolve })), []);
  const toast = useCallback((text: string, tone: "good" | "bad" = "good") => {
    const id = Date.now() + Math.random();
    setToasts((t) => [...t, { id, text, tone }]);
    window.setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 4000);
  }, []);
  const answer = (ok: boolean) => {
    pending?.resolve(ok);
    setPending(null);
  };
  return (
    <ConfirmContext.Provider value={confirm}>
      <ToastContext.Provider value={toast}>
        {children}
        <Modal open={!!pending} title={pending?.title ?? ""} onClose={() => answer(false)}>
          <div className="confirm-message">{pending?.message}</div>
          <div className="form-actions">
            <button type="button" className="btn" onClick={() => answer(false)}>
              Cancel
            </button>
            <button type="button" className={pending?.danger ? "btn danger" : "btn primary"} onClick={() => answer(true)} autoFocus>
              {pending?.confirmLabel ?? "OK"}
            </button>
          </div>
        </Modal>
        <div className="toasts" role="status" aria-live="polite">
          {toasts.map((t) => (
            <div key={t.id} className={`toast tone-${t.tone}`}>
              {t.text}
            </div>
          ))}
        </div>
      </ToastContext.Provider>
    </ConfirmContext.Provider>
  );
}

/** Asks before doing something that cannot be undone; resolves true when confirmed. */
export function useConfirm(): Confirm {
  return useContext(ConfirmContext);
}

/** Shows a short message for a few seconds. */
export function useToast() {
  return useContext(ToastContext);
}

/** Copies text; works on plain HTTP too, where the Clipboard API is missing. */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall back below */
  }
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.style.position = "fixed";
  ta.style.opacity = "0";
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState<boolean | null>(null);
  return (
    <button
      type="button"
      className="btn small"
      onClick={async () => {
        setDone(await copyText(text));
        window.setTimeout(() => setDone(null), 2000);
      }}
    >
      {done === true ? "Copied" : done === false ? "Select and copy" : label}
    </button>
  );
}
