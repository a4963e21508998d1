/** A dataset: filters and saved views (``?view=<id>``), the virtualized grid, selection and bulk
 * tagging, splits, uploads, live updates, the exact-duplicates view (``?tab=duplicates``), and
 * the viewer over them (its own URL, so a link opens an image). */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { Link, Route, Routes, useNavigate, useParams, useSearchParams } from "react-router-dom";
import type { Image } from "../api/client";
import { type LiveEvent, useLiveEvents } from "../api/live";
import {
  dropImage,
  keys,
  placeImage,
  updateImage,
  useImages,
  useSplits,
  useStats,
  useTags,
  useView,
} from "../api/queries";
import { BulkTagDialog } from "../components/BulkTagDialog";
import { Duplicates } from "../components/Duplicates";
import { Failure } from "../components/Failure";
import { Filters } from "../components/Filters";
import { Grid } from "../components/Grid";
import { SavedViews } from "../components/SavedViews";
import { ShareDialog } from "../components/ShareDialog";
import { SplitsDialog } from "../components/SplitsDialog";
import { Uploader } from "../components/Uploader";
import { Viewer } from "../components/Viewer";
import { parseView, type View as Tab, withView } from "../curation";
import { describeFilter, type Filter, filterOf, filterParams, isFiltered, liveFilter, parseFilter } from "../filters";
import { viewParams } from "../splits";
import { count } from "../format";

/** Picked images: chosen one by one, or every image the filter matches. */
type Selection = { all: false; ids: Set<string> } | { all: true };
const NONE: Selection = { all: false, ids: new Set() };

export function DatasetPage() {
  const datasetId = useParams().datasetId!;
  const [search, setSearch] = useSearchParams();
  const filter = useMemo(() => parseFilter(search), [search]);
  const tab = parseView(search);
  const navigate = useNavigate();
  const client = useQueryClient();
  const stats = useStats(datasetId);
  const tags = useTags(datasetId);
  const splits = useSplits(datasetId);
  // The open saved view: its name, count and filter (the listing itself asks by ``view=``).
  const openView = useView(datasetId, filter.view);
  const viewFilter = useMemo(() => (openView.data ? filterOf(openView.data.where) : null), [openView.data]);
  const listing = useImages(datasetId, filter);
  const images = useMemo(() => listing.data?.pages.flatMap((page) => page.items) ?? [], [listing.data]);
  const [selection, setSelection] = useState<Selection>(NONE);
  const [anchor, setAnchor] = useState(0);
  const [tagging, setTagging] = useState(false);
  const [splitting, setSplitting] = useState(false);
  const [sharing, setSharing] = useState(false);

  const setFilter = (next: Filter) => {
    setSelection(NONE);
    setSearch(filterParams(next));
  };

  // The stream cannot follow duplicates (the API refuses): then it follows a wider set and an
  // event means "refetch". A view is followed by id once known not to be such a filter.
  const follow = liveFilter(filter, viewFilter);
  const live = useLiveEvents(
    datasetId,
    follow.filter,
    (event: LiveEvent) => {
      if (!follow.exact && event.type.startsWith("image.")) {
        refetchListing();
        refreshCounts();
        return;
      }
      onEvent(event);
    },
    filter.view === null || viewFilter !== null,
  );

  const onEvent = (event: LiveEvent) => {
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
  };

  const refetchListing = useDebounced(
    () => void client.invalidateQueries({ queryKey: keys.images(datasetId, filter), exact: true }),
    400,
  );

  // Counters move with every change; one refetch per burst of events is enough.
  const refreshCounts = useDebounced(() => {
    for (const key of [
      keys.stats(datasetId),
      keys.tags(datasetId),
      keys.folders(datasetId),
      keys.duplicates(datasetId),
      keys.views(datasetId), // and the open view's count
    ])
      void client.invalidateQueries({ queryKey: key });
    // Not the leakage report under it: that is worked out over every group (the split dialog
    // refetches it when its command is done, or on "Check again").
    void client.invalidateQueries({ queryKey: keys.splits(datasetId), exact: true });
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
  const show = (next: Tab) => {
    setSelection(NONE);
    setSearch(withView(search, next));
  };
  const selected = selection.all
    ? stats.data && !isFiltered(filter)
      ? stats.data.image_count
      : typeof openView.data?.count === "number"
        ? openView.data.count
        : null
    : selection.ids.size;
  const hasSelection = selection.all || selection.ids.size > 0;

  return (
    <div className="dataset">
      <Filters
        datasetId={datasetId}
        filter={filter}
        stats={stats.data}
        tags={tags.data}
        splits={splits.data}
        view={openView.data}
        viewError={openView.error}
        onChange={setFilter}
        views={
          <SavedViews
            datasetId={datasetId}
            openId={filter.view}
            current={filter.view ? viewFilter : filter}
            onOpen={(viewId) => {
              setSelection(NONE);
              setSearch(viewParams(viewId));
            }}
            onDeleted={(deleted) => setFilter(filterOf(deleted.where))}
          />
        }
      />
      <main className="dataset-main">
        <div className="toolbar">
          <h1>
            <Link to="/">Datasets</Link> / {datasetId}
          </h1>
          <span className="muted" aria-live="polite">
            {listing.data ? `${count(images.length)}${listing.hasNextPage ? "+" : ""} shown` : ""}
            {filter.view && typeof openView.data?.count === "number" ? ` · ${count(openView.data.count)} in view` : ""}
            {stats.data ? ` · ${count(stats.data.image_count)} in dataset` : ""}
          </span>
          <span className={`live ${live}`} title="live updates">
            {live === "live" ? "● live" : live === "connecting" ? "○ connecting" : "○ reconnecting"}
          </span>
          <span className="spacer" />
          <div className="segmented views" role="tablist" aria-label="view">
            {(["images", "duplicates"] as const).map((name) => (
              <button key={name} type="button" role="tab" aria-selected={tab === name} onClick={() => show(name)}>
                {name === "images" ? "Images" : "Duplicates"}
              </button>
            ))}
          </div>
          <button type="button" onClick={() => setSplitting(true)}>
            Splits…
          </button>
          <button type="button" onClick={() => setSharing(true)}>
            Share…
          </button>
          <Link className="button" to={`/datasets/${encodeURIComponent(datasetId)}/snapshots?${search.toString()}`}>
            Snapshots
          </Link>
          <Uploader datasetId={datasetId} folder={filter.folder} />
        </div>
        {tab === "duplicates" ? (
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
      {splitting && (
        <SplitsDialog
          datasetId={datasetId}
          picked={selection.all ? [] : [...selection.ids]}
          filter={filter}
          filterLabel={filter.view ? `the view ${openView.data?.name ?? filter.view}` : describeFilter(filter)}
          onClose={() => setSplitting(false)}
        />
      )}
      {sharing && (
        <ShareDialog
          datasetId={datasetId}
          view={filter.view && openView.data ? { id: filter.view, name: openView.data.name } : null}
          onClose={() => setSharing(false)}
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
