/** One image over the grid: preview with its annotations (editable, saved with If-Match),
 * its split, details, download, editable tags, similar images. Arrows step through the listing; Esc closes.
 * The frame (ViewerShell) and the details (ImageDetails) also serve a share link's read-only viewer. */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api, ApiError, call, type Image, type Shape } from "../api/client";
import { keys, useImage } from "../api/queries";
import { bytes, when } from "../format";
import { AnnotationLayer, labelColor } from "./AnnotationLayer";
import { Failure } from "./Failure";
import { Similar } from "./Similar";
import { SplitBadge } from "./SplitBadge";

interface Props {
  datasetId: string;
  images: Image[];
}

export function Viewer({ datasetId, images }: Props) {
  const imageId = useParams().imageId!;
  const image = useImage(imageId);
  // The similar strip's distance, kept while stepping from image to image.
  const [k, setK] = useState(6);
  return (
    <ViewerShell
      basePath={`/datasets/${encodeURIComponent(datasetId)}`}
      images={images}
      imageId={imageId}
      image={image.data}
      error={image.error}
      onKey={(event) => {
        if (event.key !== "t") return false;
        document.getElementById("viewer-tag-input")?.focus();
        return true;
      }}
    >
      {(shown, show) => (
        <ImageView key={shown.id} image={shown} similar={<Similar image={shown} k={k} onK={setK} onOpen={show} />} />
      )}
    </ViewerShell>
  );
}

/** What the viewer's frame needs of an image: a dataset's item or a share link's. */
type Viewed = Pick<Image, "id" | "file_name" | "path" | "split">;

interface ShellProps<T extends Viewed> {
  /** The grid's path; an image opens at ``<basePath>/images/<id>`` (the grid's query kept). */
  basePath: string;
  images: { id: string }[];
  imageId: string;
  image: T | undefined;
  error: unknown;
  /** A key the body handles (true: handled); arrows and Esc are the frame's. */
  onKey?: (event: React.KeyboardEvent) => boolean;
  children: (image: T, show: (id: string) => void) => React.ReactNode;
}

/** The viewer's frame over a grid: title, previous/next, close, keyboard; the body is the caller's
 * (editable for a dataset, read-only for a share link). */
export function ViewerShell<T extends Viewed>({
  basePath,
  images,
  imageId,
  image,
  error,
  onKey,
  children,
}: ShellProps<T>) {
  const [search] = useSearchParams();
  const navigate = useNavigate();
  const index = images.findIndex((item) => item.id === imageId);
  const close = () => navigate({ pathname: basePath, search: search.toString() });
  const show = (id: string) =>
    navigate({ pathname: `${basePath}/images/${encodeURIComponent(id)}`, search: search.toString() });
  const go = (step: number) => {
    const next = images[index + step];
    if (next) show(next.id);
  };
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => dialog.current?.focus(), [imageId]);

  return (
    <div
      className="viewer"
      role="dialog"
      aria-modal="true"
      aria-label={image?.file_name ?? "image"}
      tabIndex={-1}
      ref={dialog}
      onKeyDown={(event) => {
        if ((event.target as HTMLElement).closest("input, textarea, select")) return;
        if (event.key === "Escape") close();
        else if (event.key === "ArrowRight") go(1);
        else if (event.key === "ArrowLeft") go(-1);
        else if (onKey?.(event)) event.preventDefault();
      }}
    >
      <header className="viewer-bar">
        <button type="button" onClick={() => go(-1)} disabled={index <= 0} aria-label="Previous image">
          ‹
        </button>
        <button
          type="button"
          onClick={() => go(1)}
          disabled={index < 0 || index >= images.length - 1}
          aria-label="Next image"
        >
          ›
        </button>
        <h2>{image?.path ?? "…"}</h2>
        <SplitBadge split={image?.split} />
        <span className="spacer" />
        <button type="button" onClick={close} aria-label="Close viewer">
          ×
        </button>
      </header>
      {error ? <Failure error={error} /> : null}
      {image && children(image, show)}
    </div>
  );
}

/** An image's facts, as the viewer's side panel lists them. */
export function ImageDetails({
  image,
}: {
  image: Pick<
    Image,
    | "width"
    | "height"
    | "size"
    | "content_type"
    | "status"
    | "status_reason"
    | "split"
    | "uploaded_at"
    | "captured_at"
    | "camera"
  >;
}) {
  const { width, height } = image;
  return (
    <dl>
      <dt>Dimensions</dt>
      <dd>{width && height ? `${width} × ${height}` : "—"}</dd>
      <dt>Size</dt>
      <dd>{bytes(image.size)}</dd>
      <dt>Type</dt>
      <dd>{image.content_type ?? "—"}</dd>
      <dt>Status</dt>
      <dd data-status={image.status}>
        {image.status}
        {image.status_reason ? `: ${image.status_reason}` : ""}
      </dd>
      <dt>Split</dt>
      <dd data-split={image.split ?? "none"}>{image.split ?? "none"}</dd>
      <dt>Uploaded</dt>
      <dd>{when(image.uploaded_at)}</dd>
      <dt>Captured (EXIF)</dt>
      <dd>{when(image.captured_at)}</dd>
      <dt>Camera (EXIF)</dt>
      <dd>{image.camera ?? "—"}</dd>
    </dl>
  );
}

function ImageView({ image, similar }: { image: Image; similar: React.ReactNode }) {
  const client = useQueryClient();
  const annotations = useQuery({
    queryKey: keys.annotations(image.id),
    queryFn: () => call(api.GET("/v1/images/{image_id}/annotations", { params: { path: { image_id: image.id } } })),
  });
  const [draft, setDraft] = useState<Shape[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const shapes = draft ?? ((annotations.data?.annotations ?? []) as Shape[]);
  const current = shapes.find((shape) => shape.id === selected) ?? null;
  const width = image.width ?? 0;
  const height = image.height ?? 0;
  const edit = (shape: Shape) => setDraft(shapes.map((s) => (s.id === shape.id ? shape : s)));
  const remove = (id: string) => {
    setDraft(shapes.filter((s) => s.id !== id));
    setSelected(null);
  };
  const removeSelected = useRef(() => {});
  removeSelected.current = () => current && remove(current.id);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const typing = (event.target as HTMLElement).closest("input, textarea, select");
      if ((event.key === "Delete" || event.key === "Backspace") && !typing) removeSelected.current();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const save = async () => {
    if (!annotations.data || !draft) return;
    setSaving(true);
    setError(null);
    try {
      const saved = await call(
        api.PUT("/v1/images/{image_id}/annotations", {
          params: { path: { image_id: image.id }, header: { "if-match": `"${annotations.data.revision}"` } },
          // The generated type of Shape's oneOf is not satisfiable; the API validates the body.
          body: { annotations: draft } as never,
        }),
      );
      client.setQueryData(keys.annotations(image.id), saved);
      void client.invalidateQueries({ queryKey: keys.labels(image.dataset_id) });
      setDraft(null);
      setConflict(null);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 412) setConflict(Number(failure.problem.current_revision));
      else setError(failure);
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="viewer-body">
      <div className="stage">
        <div className="frame" style={{ aspectRatio: width && height ? `${width} / ${height}` : undefined }}>
          <img src={image.preview_url ?? image.url} alt={image.file_name} draggable={false} />
          {width > 0 && height > 0 && (
            <AnnotationLayer
              width={width}
              height={height}
              shapes={shapes}
              selected={selected}
              onSelect={setSelected}
              onChange={edit}
            />
          )}
        </div>
      </div>
      <aside className="details">
        <section>
          <h3>Details</h3>
          <ImageDetails image={image} />
          <a className="button" href={image.url} download={image.file_name}>
            Download original
          </a>
        </section>
        {similar}
        <TagEditor image={image} />
        <section>
          <h3>
            Annotations {annotations.data ? <span className="muted">rev {annotations.data.revision}</span> : null}
          </h3>
          {annotations.error && <Failure error={annotations.error} />}
          <ul className="shapes">
            {shapes.map((shape) => (
              <li key={shape.id} className={shape.id === selected ? "current" : ""}>
                <button
                  type="button"
                  className="swatch"
                  style={{ background: labelColor(shape.label) }}
                  onClick={() => setSelected(shape.id)}
                  aria-label={`Select ${shape.label} ${shape.type}`}
                />
                <span>
                  {shape.label} <span className="muted">{shape.type}</span>
                </span>
                <button
                  type="button"
                  className="link"
                  onClick={() => remove(shape.id)}
                  aria-label={`Delete ${shape.label} ${shape.type}`}
                >
                  delete
                </button>
              </li>
            ))}
          </ul>
          {current && (
            <label>
              Label of the selected shape
              <input
                value={current.label}
                onChange={(event) => edit({ ...current, label: event.target.value })}
                aria-label="Selected shape label"
              />
            </label>
          )}
          {conflict !== null && (
            <div role="alert" className="error conflict">
              Someone else changed these annotations meanwhile (now revision {conflict}). Your edits were not saved.{" "}
              <button
                type="button"
                onClick={() => {
                  setDraft(null);
                  setConflict(null);
                  void annotations.refetch();
                }}
              >
                Load their version
              </button>
            </div>
          )}
          {error !== null && <Failure error={error} />}
          <div className="actions">
            <button type="button" disabled={!draft || saving} onClick={() => setDraft(null)}>
              Discard
            </button>
            <button type="button" className="primary" disabled={!draft || saving} onClick={() => void save()}>
              {saving ? "Saving…" : "Save annotations"}
            </button>
          </div>
        </section>
      </aside>
    </div>
  );
}

function TagEditor({ image }: { image: Image }) {
  const client = useQueryClient();
  const [text, setText] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const change = async (body: { add?: string[]; remove?: string[] }) => {
    setPending(true);
    setError(null);
    try {
      const { command_id } = await call(
        api.PATCH("/v1/images/{image_id}/tags", { params: { path: { image_id: image.id } }, body }),
      );
      for (let i = 0; i < 60; i++) {
        const progress = await call(api.GET("/v1/commands/{command_id}", { params: { path: { command_id } } }));
        if (progress.status === "done") break;
        await new Promise((done) => setTimeout(done, 250));
      }
      await client.invalidateQueries({ queryKey: keys.image(image.id) });
      void client.invalidateQueries({ queryKey: keys.tags(image.dataset_id) });
    } catch (failure) {
      setError(failure);
    } finally {
      setPending(false);
    }
  };
  return (
    <section>
      <h3>Tags</h3>
      <ul className="chips" aria-label="tags">
        {image.tags.map((tag) => (
          <li key={tag}>
            {tag}
            <button
              type="button"
              aria-label={`Remove tag ${tag}`}
              disabled={pending}
              onClick={() => void change({ remove: [tag] })}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const add = text
            .split(",")
            .map((t) => t.trim())
            .filter(Boolean);
          if (add.length) void change({ add }).then(() => setText(""));
        }}
      >
        <input
          id="viewer-tag-input"
          value={text}
          onChange={(event) => setText(event.target.value)}
          placeholder="add tags, comma-separated"
          aria-label="Add tags"
          disabled={pending}
        />
      </form>
      {error !== null && <Failure error={error} />}
    </section>
  );
}
