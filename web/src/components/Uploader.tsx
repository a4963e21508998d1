/** Upload files or folders (picked or dropped anywhere on the page) with per-file and total
 * progress; the grid shows each image when the live stream says it was indexed. */
import { useEffect, useRef, useState } from "react";
import { count } from "../format";
import { upload, type UploadItem, uploadPath } from "../uploads";

const PARALLEL = 3;
let nextId = 1;

/** Every file under a dropped entry, with its path relative to the drop. */
async function entryFiles(entry: FileSystemEntry): Promise<{ file: File; path: string }[]> {
  if (entry.isFile) {
    const file = await new Promise<File>((ok, fail) => (entry as FileSystemFileEntry).file(ok, fail));
    return [{ file, path: entry.fullPath }];
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: { file: File; path: string }[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((ok, fail) => reader.readEntries(ok, fail));
    if (!batch.length) return out;
    for (const child of batch) out.push(...(await entryFiles(child)));
  }
}

/** Uploads go into ``folder`` (the folder the grid shows) when one is chosen. */
export function Uploader({ datasetId, folder }: { datasetId: string; folder: string | null }) {
  const [items, setItems] = useState<UploadItem[]>([]);
  const [open, setOpen] = useState(false);
  const [dragging, setDragging] = useState(false);
  const running = useRef(0);
  const queue = useRef<UploadItem[]>([]);

  const change = (id: number, patch: Partial<UploadItem>) =>
    setItems((all) => all.map((item) => (item.id === id ? { ...item, ...patch } : item)));

  const pump = () => {
    while (running.current < PARALLEL && queue.current.length) {
      const item = queue.current.shift()!;
      running.current++;
      change(item.id, { state: "uploading" });
      upload(
        datasetId,
        item,
        (sent) => change(item.id, { sent }),
        (attempts) => change(item.id, { attempts }),
      )
        .then(() => change(item.id, { state: "done", sent: item.file.size }))
        .catch((error: Error) => change(item.id, { state: "failed", error: error.message }))
        .finally(() => {
          running.current--;
          pump();
        });
    }
  };

  const add = (files: { file: File; path: string }[]) => {
    const fresh = files
      .filter(({ file, path }) => uploadPath(file, path) !== "")
      .map(({ file, path }): UploadItem => ({
        id: nextId++,
        file,
        path: folder ? `${folder}/${uploadPath(file, path)}` : uploadPath(file, path),
        sent: 0,
        state: "queued",
        attempts: 0,
      }));
    if (!fresh.length) return;
    setOpen(true);
    setItems((all) => [...all, ...fresh]);
    queue.current.push(...fresh);
    pump();
  };

  const addLatest = useRef(add);
  addLatest.current = add;
  useEffect(() => {
    const over = (event: DragEvent) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      setDragging(true);
    };
    const leave = (event: DragEvent) => event.relatedTarget === null && setDragging(false);
    const drop = async (event: DragEvent) => {
      if (!event.dataTransfer?.types.includes("Files")) return;
      event.preventDefault();
      setDragging(false);
      const entries = [...event.dataTransfer.items]
        .map((item) => item.webkitGetAsEntry())
        .filter((entry): entry is FileSystemEntry => entry !== null);
      // Entries keep a dropped folder's structure; a drop without them (some browsers, or a
      // synthetic one) still carries its files.
      const files = entries.length
        ? (await Promise.all(entries.map(entryFiles))).flat()
        : [...event.dataTransfer.files].map((file) => ({ file, path: "" }));
      addLatest.current(files);
    };
    window.addEventListener("dragover", over);
    window.addEventListener("dragleave", leave);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragover", over);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("drop", drop);
    };
  }, []); // once: the drop handler reaches the current state through addLatest

  const total = items.reduce((n, item) => n + item.file.size, 0);
  const sent = items.reduce((n, item) => n + item.sent, 0);
  const done = items.filter((item) => item.state === "done").length;
  const failed = items.filter((item) => item.state === "failed");
  const pick = (list: FileList | null) => add([...(list ?? [])].map((file) => ({ file, path: "" })));

  return (
    <>
      <button type="button" className="primary" onClick={() => setOpen(!open)} aria-expanded={open}>
        Upload
      </button>
      {dragging && <div className="dropzone">Drop files or folders to upload to {datasetId}</div>}
      {open && (
        <section className="uploads" aria-label="uploads">
          <header>
            <h2>Upload{folder ? ` to ${folder}/` : ""}</h2>
            <button type="button" className="link" onClick={() => setOpen(false)} aria-label="Close uploads">
              ×
            </button>
          </header>
          <div className="pickers">
            <label className="button">
              Files…
              <input
                type="file"
                multiple
                accept="image/*"
                aria-label="Upload files"
                onChange={(e) => {
                  pick(e.target.files);
                  e.target.value = "";
                }}
              />
            </label>
            <label className="button">
              Folder…
              <input
                type="file"
                aria-label="Upload a folder"
                {...{ webkitdirectory: "", directory: "" }}
                onChange={(e) => {
                  pick(e.target.files);
                  e.target.value = "";
                }}
              />
            </label>
            <span className="muted">or drop them anywhere</span>
          </div>
          {items.length > 0 && (
            <>
              <div role="status" className="progress-block">
                <progress max={Math.max(total, 1)} value={sent} aria-label="total upload progress" />
                <span>
                  {count(done)} of {count(items.length)} uploaded
                  {failed.length ? `, ${count(failed.length)} failed` : ""}
                </span>
              </div>
              <ul className="upload-list">
                {items.map((item) => (
                  <li key={item.id} data-state={item.state}>
                    <span className="name" title={item.path}>
                      {item.path}
                    </span>
                    <progress
                      max={Math.max(item.file.size, 1)}
                      value={item.sent}
                      aria-label={`${item.path} progress`}
                    />
                    <span className="state">
                      {item.state}
                      {item.attempts > 0 && item.state !== "done" ? ` (retry ${item.attempts})` : ""}
                    </span>
                    {item.error && <span className="error">{item.error}</span>}
                  </li>
                ))}
              </ul>
              {failed.length > 0 && (
                <button
                  type="button"
                  onClick={() => {
                    for (const item of failed) change(item.id, { state: "queued", error: undefined, sent: 0 });
                    queue.current.push(...failed);
                    pump();
                  }}
                >
                  Retry failed
                </button>
              )}
            </>
          )}
        </section>
      )}
    </>
  );
}
