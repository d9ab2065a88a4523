// Image upload (project logos, agent avatars): a file input behind a button,
// with the image checked in the browser before it is sent.
import { useId, useRef, useState } from "react";

const TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const MAX = 5 * 1024 * 1024;

export function ImageUpload(props: { label: string; onFile: (f: File) => Promise<void> }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function picked(f: File | undefined) {
    if (!f) return;
    setError(undefined);
    if (!TYPES.includes(f.type)) return setError("Choose a PNG, JPEG, GIF or WebP image.");
    if (f.size > MAX) return setError("The image is larger than 5 MB.");
    setBusy(true);
    try {
      await props.onFile(f);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
      if (input.current) input.current.value = "";
    }
  }

  return (
    <div className="upload">
      <label htmlFor={id} className="btn small">
        {busy ? "Uploading…" : props.label}
      </label>
      <input
        id={id}
        ref={input}
        className="sr-only"
        type="file"
        accept={TYPES.join(",")}
        onChange={(e) => void picked(e.target.files?.[0])}
      />
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
