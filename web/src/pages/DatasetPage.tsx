/** A dataset: filters, the virtualized grid, selection and bulk tagging, uploads, live updates,
 * the exact-duplicates view (``?tab=duplicates``), and the viewer over them (its own URL, so a
 * link opens an image). */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { Link, Route, Routes, useNavigate, useParams, useSearchParams } from "react-router-dom";
import type { Image } from "../api/client";
import { type LiveEvent, useLiveEvents } from "../api/live";
import { dropImage, keys, placeImage, updateImage, useImages, useStats, useTags } from "../api/queries";
import { BulkTagDialog } from "../components/BulkTagDialog";
import { Duplicates } from "../components/Duplicates";
import { Failure } from "../components/Failure";
import { Filters } from "../components/Filters";
import { Grid } from "../components/Grid";
import { Uploader } from "../components/Uploader";
import { Viewer } from "../components/Viewer";
import { parseView, type View, withView } from "../curation";
import { type Filter, filterParams, isFiltered, parseFilter } from "../filters";
import { count } from "../format";

/** Picked images: chosen one by one, or every image the filter matches. */
type Selection = { all: false; ids: Set<string> } | { all: true };
const NONE: Selection = { all: false, ids: new Set() };

export function DatasetPage() {
  const datasetId = useParams().datasetId!;
  const [search, setSearch] = useSearchParams();
  const filter = useMemo(() => parseFilter(search), [search]);
  const view = parseView(search);
  const navigate = useNavigate();
  const client = useQueryClient();
  const stats = useStats(datasetId);
  const tags = useTags(datasetId);
  const listing = useImages(datasetId, filter);
  const images = useMemo(() => listing.data?.pages.flatMap((page) => page.items) ?? [], [listing.data]);
  const [selection, setSelection] = useState<Selection>(NONE);
  const [anchor, setAnchor] = useState(0);
  const [tagging, setTagging] = useState(false);

  const setFilter = (next: Filter) => {
    setSelection(NONE);
    setSearch(filterParams(next));
  };

  const live = useLiveEvents(datasetId, filter, (event: LiveEvent) => {
    const key = keys.images(datasetId, filter);
    switch (event.type) {
      case "image.indexed":
      case "image.entered":
        placeImage(client, key, event.image);
        break;
      case "image.updated":
        updateImage(client, key, event.image);
        break;
      case "image.removed":
      case "image.left":
        dropImage(client, key, event.image.id);
        break;
      case "reset":
        void client.invalidateQueries({ queryKey: keys.images(datasetId) });
        break;
      default:
        void client.invalidateQueries({ queryKey: keys.snapshots(datasetId) });
        return;
    }
    refreshCounts();
  });

  // Counters move with every change; one refetch per burst of events is enough.
  const refreshCounts = useDebounced(() => {
    for (const key of [
      keys.stats(datasetId),
      keys.tags(datasetId),
      keys.folders(datasetId),
      keys.duplicates(datasetId),
    ])
      void client.invalidateQueries({ queryKey: key });
    // Other filters' cached listings are stale now; refetch them when shown again.
    void client.invalidateQueries({
      queryKey: keys.images(datasetId),
      refetchType: "none",
      predicate: (query) => JSON.stringify(query.queryKey) !== JSON.stringify(keys.images(datasetId, filter)),
    });
  }, 400);

  const isSelected = useCallback((image: Image) => selection.all || selection.ids.has(image.id), [selection]);
  const pick = useCallback(
    (index: number, event: React.MouseEvent | React.KeyboardEvent) => {
      const ids = new Set(selection.all ? images.map((image) => image.id) : selection.ids);
      if (event.shiftKey) {
        const [from, to] = index < anchor ? [index, anchor] : [anchor, index];
        for (const image of images.slice(from, to + 1)) ids.add(image.id);
      } else {
        const id = images[index].id;
        if (ids.has(id)) ids.delete(id);
        else ids.add(id);
        setAnchor(index);
      }
      setSelection({ all: false, ids });
    },
    [selection, images, anchor],
  );
  const openImage = useCallback(
    (imageId: string) =>
      navigate({
        pathname: `/datasets/${encodeURIComponent(datasetId)}/images/${encodeURIComponent(imageId)}`,
        search: search.toString(),
      }),
    [navigate, search, datasetId],
  );
  const open = useCallback((index: number) => openImage(images[index].id), [openImage, images]);
  const show = (next: View) => {
    setSelection(NONE);
    setSearch(withView(search, next));
  };
  const selected = selection.all
    ? stats.data && !isFiltered(filter)
      ? stats.data.image_count
      : null
    : selection.ids.size;
  const hasSelection = selection.all || selection.ids.size > 0;

  return (
    <div className="dataset">
      <Filters datasetId={datasetId} filter={filter} stats={stats.data} tags={tags.data} onChange={setFilter} />
      <main className="dataset-main">
        <div className="toolbar">
          <h1>
            <Link to="/">Datasets</Link> / {datasetId}
          </h1>
          <span className="muted" aria-live="polite">
            {listing.data ? `${count(images.length)}${listing.hasNextPage ? "+" : ""} shown` : ""}
            {stats.data ? ` · ${count(stats.data.image_count)} in dataset` : ""}
          </span>
          <span className={`live ${live}`} title="live updates">
            {live === "live" ? "● live" : live === "connecting" ? "○ connecting" : "○ reconnecting"}
          </span>
          <span className="spacer" />
          <div className="segmented views" role="tablist" aria-label="view">
            {(["images", "duplicates"] as const).map((name) => (
              <button key={name} type="button" role="tab" aria-selected={view === name} onClick={() => show(name)}>
                {name === "images" ? "Images" : "Duplicates"}
              </button>
            ))}
          </div>
          <Link className="button" to={`/datasets/${encodeURIComponent(datasetId)}/snapshots?${search.toString()}`}>
            Snapshots
          </Link>
          <Uploader datasetId={datasetId} folder={filter.folder} />
        </div>
        {view === "duplicates" ? (
          <div className="duplicates-scroll" role="tabpanel" aria-label="Duplicates">
            <Duplicates datasetId={datasetId} onOpen={openImage} />
          </div>
        ) : (
          <>
            <div className="selectionbar" aria-label="selection">
              {hasSelection ? (
                <>
                  <span aria-live="polite">
                    {selection.all ? `All matching images selected` : `${count(selection.ids.size)} selected`}
                    {selection.all && selected !== null ? ` (${count(selected)})` : ""}
                  </span>
                  <button type="button" onClick={() => setTagging(true)}>
                    Tag… <kbd>t</kbd>
                  </button>
                  <button type="button" onClick={() => setSelection(NONE)}>
                    Clear <kbd>Esc</kbd>
                  </button>
                </>
              ) : (
                <span className="muted">Shift-click or Space selects; Enter opens.</span>
              )}
              <button type="button" onClick={() => setSelection({ all: true })} disabled={!images.length}>
                Select all matching
              </button>
            </div>
            {listing.error && <Failure error={listing.error} />}
            {listing.data && images.length === 0 && <p className="empty muted">No images match.</p>}
            <Grid
              key={search.toString()} // a new filter starts at the top
              label={`images of ${datasetId}`}
              images={images}
              hasMore={listing.hasNextPage}
              loadingMore={listing.isFetchingNextPage}
              loadMore={() => void listing.fetchNextPage()}
              isSelected={isSelected}
              onPick={pick}
              onOpen={open}
              onKey={(event, focused) => {
                if (event.key === "t" && images.length) {
                  if (!hasSelection) setSelection({ all: false, ids: new Set([images[focused].id]) });
                  setTagging(true);
                } else if (event.key === "Escape") setSelection(NONE);
                else if (event.key === "a" && (event.ctrlKey || event.metaKey)) setSelection({ all: true });
                else return false;
                event.preventDefault();
                return true;
              }}
            />
          </>
        )}
      </main>
      {tagging && (
        <BulkTagDialog
          datasetId={datasetId}
          target={selection.all ? { where: filter } : { ids: [...selection.ids] }}
          size={selected}
          known={tags.data?.tags.map((t) => t.tag) ?? []}
          onClose={() => setTagging(false)}
        />
      )}
      <Routes>
        <Route path="images/:imageId" element={<Viewer datasetId={datasetId} images={images} />} />
      </Routes>
    </div>
  );
}

/** ``fn`` called once, ``ms`` after the last of a burst of calls. */
function useDebounced(fn: () => void, ms: number): () => void {
  const [state] = useState(() => ({ timer: 0, fn }));
  state.fn = fn;
  return useCallback(() => {
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(() => state.fn(), ms);
  }, [state, ms]);
}
