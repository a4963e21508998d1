/** Server state through TanStack Query: one key scheme, so live events can update what is cached. */
import { type InfiniteData, type QueryClient, useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { type Filter, filterParams } from "../filters";
import { api, call, type Image, type Snapshot } from "./client";

export const PAGE = 100;

export const keys = {
  datasets: ["datasets"] as const,
  stats: (id: string) => ["dataset", id, "stats"] as const,
  tags: (id: string) => ["dataset", id, "tags"] as const,
  folders: (id: string) => ["dataset", id, "folders"] as const,
  labels: (id: string) => ["dataset", id, "labels"] as const,
  images: (id: string, filter?: Filter) =>
    filter ? (["dataset", id, "images", filterParams(filter)] as const) : (["dataset", id, "images"] as const),
  snapshots: (id: string) => ["dataset", id, "snapshots"] as const,
  duplicates: (id: string) => ["dataset", id, "duplicates"] as const,
  image: (id: string) => ["image", id] as const,
  annotations: (id: string) => ["image", id, "annotations"] as const,
  similar: (id: string, k: number) => ["image", id, "similar", k] as const,
  splits: (id: string) => ["dataset", id, "splits"] as const,
  leakage: (id: string, k: number) => ["dataset", id, "splits", "leakage", k] as const,
  views: (id: string) => ["dataset", id, "views"] as const,
  view: (id: string, viewId: string) => ["dataset", id, "views", viewId] as const,
};

/** The catalog by cursor, refreshed every 10 s (counts move as images arrive). */
export function useDatasets() {
  return useInfiniteQuery({
    queryKey: keys.datasets,
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      call(api.GET("/v1/datasets", { params: { query: { limit: 200, cursor: pageParam ?? undefined } } })),
    getNextPageParam: (last) => last.next_cursor,
    refetchInterval: 10_000,
  });
}

export function useStats(datasetId: string) {
  return useQuery({
    queryKey: keys.stats(datasetId),
    queryFn: () => call(api.GET("/v1/datasets/{dataset_id}/stats", { params: { path: { dataset_id: datasetId } } })),
  });
}

export function useTags(datasetId: string) {
  return useQuery({
    queryKey: keys.tags(datasetId),
    queryFn: () => call(api.GET("/v1/datasets/{dataset_id}/tags", { params: { path: { dataset_id: datasetId } } })),
  });
}

export type ImagesPage = { items: Image[]; next_cursor: string | null };

export function useImages(datasetId: string, filter: Filter) {
  return useInfiniteQuery({
    queryKey: keys.images(datasetId, filter),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET("/v1/datasets/{dataset_id}/images", {
          params: {
            path: { dataset_id: datasetId },
            query: { ...filterParams(filter), limit: PAGE, cursor: pageParam ?? undefined },
          },
          signal,
        }),
      ) as Promise<ImagesPage>,
    getNextPageParam: (last) => last.next_cursor,
  });
}

export function useImage(imageId: string) {
  return useQuery({
    queryKey: keys.image(imageId),
    queryFn: () => call(api.GET("/v1/images/{image_id}", { params: { path: { image_id: imageId } } })),
  });
}

/** A snapshot still being built (neither ready nor failed). */
export function building(snapshot: Snapshot): boolean {
  return snapshot.status !== "ready" && snapshot.status !== "failed";
}

/** Snapshots, polled every second while one is being built or a requested one is not listed yet. */
export function useSnapshots(datasetId: string, requested: string[]) {
  return useQuery({
    queryKey: keys.snapshots(datasetId),
    queryFn: () =>
      call(api.GET("/v1/datasets/{dataset_id}/snapshots", { params: { path: { dataset_id: datasetId } } })),
    refetchInterval: (query) => {
      const items = query.state.data?.items ?? [];
      const listed = new Set(items.map((s) => s.snapshot_id));
      const busy = items.some(building);
      return busy || requested.some((id) => !listed.has(id)) ? 1000 : false;
    },
  });
}

type Pages = InfiniteData<ImagesPage, string | null>;
type Key = readonly unknown[];

/** Newest first, as the API lists: uploaded_at, then id, both descending. */
function before(a: Image, b: Image): boolean {
  return a.uploaded_at === b.uploaded_at ? a.id > b.id : a.uploaded_at > b.uploaded_at;
}

function edit(client: QueryClient, key: Key, change: (pages: ImagesPage[]) => ImagesPage[]) {
  client.setQueryData<Pages>(key, (data) => (data ? { ...data, pages: change(data.pages) } : data));
}

function without(pages: ImagesPage[], imageId: string): ImagesPage[] {
  return pages.map((page) => ({ ...page, items: page.items.filter((item) => item.id !== imageId) }));
}

/** Put ``image`` into the cached listing ``key`` at its place in the listing order. */
export function placeImage(client: QueryClient, key: Key, image: Image) {
  edit(client, key, (pages) => {
    const out = without(pages, image.id);
    for (let p = 0; p < out.length; p++) {
      const at = out[p].items.findIndex((item) => before(image, item));
      if (at >= 0) {
        out[p] = { ...out[p], items: [...out[p].items.slice(0, at), image, ...out[p].items.slice(at)] };
        return out;
      }
    }
    // Past everything loaded: a later page will bring it, unless there is none.
    const last = out[out.length - 1];
    if (last && last.next_cursor === null) out[out.length - 1] = { ...last, items: [...last.items, image] };
    return out;
  });
  client.setQueryData(keys.image(image.id), image);
}

/** Replace an image where the cached listing ``key`` holds it (a thumb arrived, tags changed). */
export function updateImage(client: QueryClient, key: Key, image: Image) {
  edit(client, key, (pages) =>
    pages.map((page) => ({ ...page, items: page.items.map((item) => (item.id === image.id ? image : item)) })),
  );
  client.setQueryData(keys.image(image.id), image);
}

/** Take an image out of the cached listing ``key``. */
export function dropImage(client: QueryClient, key: Key, imageId: string) {
  edit(client, key, (pages) => without(pages, imageId));
}

export function useFolders(datasetId: string) {
  return useQuery({
    queryKey: keys.folders(datasetId),
    queryFn: () => call(api.GET("/v1/datasets/{dataset_id}/folders", { params: { path: { dataset_id: datasetId } } })),
  });
}

export const DUPLICATE_GROUPS_PAGE = 20;

/** Exact-duplicate groups, largest first, a page at a time; polled while ``poll`` (a delete
 * is waiting for the index to follow). */
export function useDuplicates(datasetId: string, poll: boolean) {
  return useInfiniteQuery({
    queryKey: keys.duplicates(datasetId),
    initialPageParam: null as string | null,
    queryFn: ({ pageParam, signal }) =>
      call(
        api.GET("/v1/datasets/{dataset_id}/duplicates", {
          params: {
            path: { dataset_id: datasetId },
            query: { limit: DUPLICATE_GROUPS_PAGE, cursor: pageParam ?? undefined },
          },
          signal,
        }),
      ),
    getNextPageParam: (last) => last.next_cursor,
    refetchInterval: poll ? 1000 : false,
  });
}

/** Images of the same dataset within ``k`` bits of the image's pHash, nearest first (only once it has one). */
export function useSimilar(imageId: string, k: number, phash: string | null | undefined, limit = 24) {
  return useQuery({
    queryKey: [...keys.similar(imageId, k), phash ?? null],
    enabled: Boolean(phash),
    queryFn: ({ signal }) =>
      call(
        api.GET("/v1/images/{image_id}/similar", {
          params: { path: { image_id: imageId }, query: { k, limit } },
          signal,
        }),
      ),
  });
}

/** Delete an image's original; the index (listing, counts, groups) follows within seconds. */
export function deleteImage(imageId: string) {
  return call(api.DELETE("/v1/images/{image_id}", { params: { path: { image_id: imageId } } }));
}

/** Images per split (exact counters). */
export function useSplits(datasetId: string) {
  return useQuery({
    queryKey: keys.splits(datasetId),
    queryFn: () => call(api.GET("/v1/datasets/{dataset_id}/splits", { params: { path: { dataset_id: datasetId } } })),
  });
}

/** Duplicate groups (exact and near, within ``k`` bits) whose images sit in two or more splits. */
export function useLeakage(datasetId: string, k: number, enabled = true) {
  return useQuery({
    queryKey: keys.leakage(datasetId, k),
    enabled,
    queryFn: ({ signal }) =>
      call(
        api.GET("/v1/datasets/{dataset_id}/splits/leakage", {
          params: { path: { dataset_id: datasetId }, query: { k } },
          signal,
        }),
      ),
  });
}

/** The dataset's saved views, by name. */
export function useViews(datasetId: string) {
  return useQuery({
    queryKey: keys.views(datasetId),
    queryFn: () => call(api.GET("/v1/datasets/{dataset_id}/views", { params: { path: { dataset_id: datasetId } } })),
  });
}

/** One saved view with how many images it selects now (none asked while ``viewId`` is null). */
export function useView(datasetId: string, viewId: string | null) {
  return useQuery({
    queryKey: keys.view(datasetId, viewId ?? ""),
    enabled: viewId !== null,
    retry: false,
    queryFn: () =>
      call(
        api.GET("/v1/datasets/{dataset_id}/views/{view_id}", {
          params: { path: { dataset_id: datasetId, view_id: viewId! } },
        }),
      ),
  });
}
