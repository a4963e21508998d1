/** A share link (``/s/<token>``): the shared images in the grid and the viewer, read-only, with no
 * bearer token; its password first when it has one; a plain page once it has expired or was revoked. */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import { Route, Routes, useNavigate, useParams } from "react-router-dom";
import { ApiError } from "../api/client";
import {
  type ShareInfo,
  type SharedImage,
  shareKeys,
  unlockShare,
  useShareInfo,
  useSharedImage,
  useSharedImages,
} from "../api/shares";
import { Failure } from "../components/Failure";
import { Grid } from "../components/Grid";
import { ImageDetails, ViewerShell } from "../components/Viewer";
import { count, when } from "../format";

const status = (error: unknown) => (error instanceof ApiError ? error.status : null);

export function SharePage() {
  const token = useParams().token!;
  const client = useQueryClient();
  const info = useShareInfo(token);
  // A link revoked (404) or a session expired (401) while browsing: ask the link again.
  const recheck = useCallback(
    () => void client.invalidateQueries({ queryKey: shareKeys.info(token) }),
    [client, token],
  );

  if (status(info.error) === 404) return <Gone />;
  if (info.error) return <Shell>{<Failure error={info.error} />}</Shell>;
  if (!info.data) return <Shell>{<p className="muted">Opening the link…</p>}</Shell>;
  if (!info.data.unlocked) return <PasswordForm token={token} onUnlocked={recheck} />;
  return <SharedGrid token={token} info={info.data} onLost={recheck} />;
}

function Shell({ children }: { children: React.ReactNode }) {
  return <main className="page share-page">{children}</main>;
}

function Gone() {
  return (
    <Shell>
      <section className="share-gone" aria-labelledby="gone-title">
        <h1 id="gone-title">This link has expired or was revoked</h1>
        <p className="muted">Ask whoever shared it for a new one.</p>
      </section>
    </Shell>
  );
}

function PasswordForm({ token, onUnlocked }: { token: string; onUnlocked: () => void }) {
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Shell>
      <form
        className="dialog share-password"
        aria-labelledby="password-title"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          try {
            await unlockShare(token, password);
            onUnlocked();
          } catch (failure) {
            setError(failure);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1 id="password-title">This shared link needs a password</h1>
        <label>
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} required autoFocus />
        </label>
        {status(error) === 401 ? (
          <p role="alert" className="error">
            Wrong password.
          </p>
        ) : error !== null ? (
          <Failure error={error} />
        ) : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            Open
          </button>
        </div>
      </form>
    </Shell>
  );
}

function SharedGrid({ token, info, onLost }: { token: string; info: ShareInfo; onLost: () => void }) {
  const navigate = useNavigate();
  const listing = useSharedImages(token, true);
  const images = useMemo(() => listing.data?.pages.flatMap((page) => page.items) ?? [], [listing.data]);
  const base = `/s/${encodeURIComponent(token)}`;
  const open = useCallback(
    (index: number) => navigate(`${base}/images/${encodeURIComponent(images[index].id)}`),
    [navigate, base, images],
  );
  const lost = [401, 404].includes(status(listing.error) ?? 0);
  useEffect(() => {
    if (lost) onLost();
  }, [lost, onLost]);
  const title = info.view_name ?? info.dataset_id ?? "Shared images";
  return (
    <div className="share-grid">
      <div className="toolbar">
        <h1>{title}</h1>
        <span className="muted" aria-live="polite">
          {listing.data ? `${count(images.length)}${listing.hasNextPage ? "+" : ""} shown` : ""}
        </span>
        <span className="spacer" />
        <span className="muted">
          Shared read-only · until {when(info.expires_at)}
          {info.allow_originals ? " · originals may be downloaded" : ""}
        </span>
      </div>
      {listing.error && !lost && <Failure error={listing.error} />}
      {listing.data && images.length === 0 && <p className="empty muted">Nothing is shared here now.</p>}
      <Grid
        label={`shared images of ${title}`}
        images={images}
        hasMore={listing.hasNextPage}
        loadingMore={listing.isFetchingNextPage}
        loadMore={() => void listing.fetchNextPage()}
        onOpen={open}
      />
      <Routes>
        <Route path="images/:imageId" element={<SharedViewer token={token} base={base} images={images} />} />
      </Routes>
    </div>
  );
}

function SharedViewer({ token, base, images }: { token: string; base: string; images: SharedImage[] }) {
  const imageId = useParams().imageId!;
  const image = useSharedImage(token, imageId);
  return (
    <ViewerShell basePath={base} images={images} imageId={imageId} image={image.data} error={image.error}>
      {(shown) => (
        <div className="viewer-body">
          <div className="stage">
            <div
              className="frame"
              style={{ aspectRatio: shown.width && shown.height ? `${shown.width} / ${shown.height}` : undefined }}
            >
              {(shown.preview_url ?? shown.url) && (
                <img src={shown.preview_url ?? shown.url ?? undefined} alt={shown.file_name} draggable={false} />
              )}
            </div>
          </div>
          <aside className="details">
            <section>
              <h3>Details</h3>
              <ImageDetails image={shown} />
              {shown.url && (
                <a className="button" href={shown.url} download={shown.file_name}>
                  Download original
                </a>
              )}
            </section>
            <section>
              <h3>Tags</h3>
              <ul className="chips" aria-label="tags">
                {shown.tags.map((tag) => (
                  <li key={tag}>{tag}</li>
                ))}
              </ul>
            </section>
          </aside>
        </div>
      )}
    </ViewerShell>
  );
}
