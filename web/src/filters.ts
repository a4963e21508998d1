/** A listing filter, as the URL holds it (shareable, back button) and as the API takes it. */

export const STATUSES = ["pending", "ready", "rejected", "failed"] as const;
export type Status = (typeof STATUSES)[number];

export const SPLITS = ["train", "val", "test"] as const;
export type Split = (typeof SPLITS)[number];
/** A split filter: one split, or ``none`` for the images in no split. */
export const SPLIT_FILTERS = [...SPLITS, "none"] as const;
export type SplitFilter = (typeof SPLIT_FILTERS)[number];

export interface Filter {
  folder: string | null;
  status: Status | null;
  tags: string[];
  match: "all" | "any";
  untagged: boolean;
  split: SplitFilter | null;
  duplicates: boolean;
  /** A saved view's id: its filter instead of the fields above (which are then the defaults). */
  view: string | null;
}

export const NO_FILTER: Filter = {
  folder: null,
  status: null,
  tags: [],
  match: "all",
  untagged: false,
  split: null,
  duplicates: false,
  view: null,
};

function oneOf<T extends string>(values: readonly T[], value: string | null | undefined): T | null {
  return (values as readonly string[]).includes(value ?? "") ? (value as T) : null;
}

export function parseFilter(params: URLSearchParams): Filter {
  // A view is a whole filter: with one, the other parameters are ignored (the API refuses both).
  const view = params.get("view");
  if (view) return { ...NO_FILTER, view };
  const tags = (params.get("tags") ?? "")
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
  return {
    folder: params.get("folder"),
    status: oneOf(STATUSES, params.get("status")),
    tags,
    match: params.get("match") === "any" ? "any" : "all",
    untagged: params.get("untagged") === "true",
    split: oneOf(SPLIT_FILTERS, params.get("split")),
    duplicates: params.get("duplicates") === "true",
    view: null,
  };
}

/** The filter as query parameters; defaults left out so equal filters give equal URLs. */
export function filterParams(filter: Filter): Record<string, string> {
  if (filter.view) return { view: filter.view };
  const out: Record<string, string> = {};
  if (filter.folder !== null) out.folder = filter.folder;
  if (filter.status) out.status = filter.status;
  if (filter.tags.length) out.tags = filter.tags.join(",");
  if (filter.tags.length && filter.match === "any") out.match = "any";
  if (filter.untagged) out.untagged = "true";
  if (filter.split) out.split = filter.split;
  if (filter.duplicates) out.duplicates = "true";
  return out;
}

/** The filter's fields as the API's ``Filter`` body (what a saved view stores). */
export function filterBody(filter: Filter) {
  return {
    folder: filter.folder,
    status: filter.status,
    tags: filter.tags,
    match: filter.match,
    untagged: filter.untagged,
    split: filter.split,
    duplicates: filter.duplicates,
  };
}

/** The filter as the API's `where` body (snapshots, bulk tagging, manual splits): a view alone. */
export function filterWhere(filter: Filter) {
  if (filter.view) return { ...filterBody(NO_FILTER), view: filter.view };
  return filterBody(filter);
}

/** A saved view's stored filter (the API's ``Filter``, fields possibly missing) as a Filter. */
export function filterOf(where: {
  folder?: string | null;
  status?: string | null;
  tags?: string[];
  match?: string;
  untagged?: boolean;
  split?: string | null;
  duplicates?: boolean;
}): Filter {
  return {
    folder: where.folder ?? null,
    status: oneOf(STATUSES, where.status),
    tags: where.tags ?? [],
    match: where.match === "any" ? "any" : "all",
    untagged: where.untagged === true,
    split: oneOf(SPLIT_FILTERS, where.split),
    duplicates: where.duplicates === true,
    view: null,
  };
}

export function isFiltered(filter: Filter): boolean {
  return Object.keys(filterParams(filter)).length > 0;
}

/** A filter for people: "folder=a/b, split=val" ("all images" when there is none). */
export function describeFilter(filter: Filter): string {
  const params = filterParams(filter);
  const parts = Object.entries(params).map(([key, value]) =>
    key === "folder" && value === "" ? "folder=(top level)" : `${key}=${value}`,
  );
  return parts.length ? parts.join(", ") : "all images";
}

/** What the live event stream can follow for a listing: the stream's filter, and whether its
 * events are exactly the listing's (then they edit the cached listing in place) or a wider set
 * (``duplicates``, which the stream cannot follow: then an event only means "refetch").
 * ``viewFilter`` is the saved view's filter once it is known. */
export function liveFilter(filter: Filter, viewFilter?: Filter | null): { filter: Filter; exact: boolean } {
  const resolved = filter.view ? viewFilter : filter;
  if (!resolved) return { filter, exact: true }; // the view is not loaded yet: follow it by id
  if (!resolved.duplicates) return { filter, exact: true };
  return { filter: { ...resolved, duplicates: false, view: null }, exact: false };
}
