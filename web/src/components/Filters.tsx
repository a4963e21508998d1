/** The filter sidebar: saved views, folders, status, split, duplicates only, tags (any/all,
 * untagged) with their exact counts. While a saved view is open the controls show its filter,
 * disabled: a view is a whole filter (leave it, or edit a copy of its filter). */
import type { ReactNode } from "react";
import type { Dataset, Schemas } from "../api/client";
import {
  describeFilter,
  type Filter,
  filterOf,
  NO_FILTER,
  SPLIT_FILTERS,
  type SplitFilter,
  STATUSES,
} from "../filters";
import { count } from "../format";
import { Failure } from "./Failure";
import { FolderTree } from "./FolderTree";

interface Props {
  datasetId: string;
  filter: Filter;
  stats?: Dataset;
  tags?: Schemas["DatasetTags"];
  splits?: Schemas["SplitCounts"];
  /** The open saved view (``filter.view``) once loaded, or why it could not be. */
  view?: Schemas["ViewPublic"];
  viewError?: unknown;
  /** The saved views list (save, open, rename, delete). */
  views?: ReactNode;
  onChange: (filter: Filter) => void;
}

export function Filters({ datasetId, filter: current, stats, tags, splits, view, viewError, views, onChange }: Props) {
  const inView = current.view !== null;
  // In a view, the controls reflect the view's filter; they are disabled, so nothing calls onChange with it.
  const filter = inView ? (view ? filterOf(view.where) : NO_FILTER) : current;
  const toggleTag = (tag: string) =>
    onChange({
      ...filter,
      untagged: false,
      tags: filter.tags.includes(tag) ? filter.tags.filter((t) => t !== tag) : [...filter.tags, tag],
    });
  return (
    <aside className="filters" aria-label="filters">
      {views}
      {inView && (
        <section className="open-view" aria-label="open view">
          <h2>Open view</h2>
          {view ? (
            <>
              <p className="open-view-name">
                <strong>{view.name}</strong>
                {typeof view.count === "number" && <span className="count">{count(view.count)}</span>}
              </p>
              <p className="muted open-view-filter">{describeFilter(filterOf(view.where))}</p>
            </>
          ) : viewError ? (
            <Failure error={viewError} />
          ) : (
            <p className="muted">…</p>
          )}
          <div className="open-view-actions">
            <button type="button" onClick={() => onChange(NO_FILTER)}>
              Leave view
            </button>
            {view && (
              <button type="button" onClick={() => onChange(filterOf(view.where))} title="the view's filter, editable">
                Edit as filter
              </button>
            )}
          </div>
        </section>
      )}
      <fieldset className="filter-controls" disabled={inView}>
        <section>
          <h2>Folders</h2>
          <FolderTree
            datasetId={datasetId}
            selected={filter.folder}
            onSelect={(folder) => onChange({ ...filter, folder })}
          />
        </section>
        <section>
          <h2 id="status-heading">Status</h2>
          <ul className="choices" aria-labelledby="status-heading">
            {[null, ...STATUSES].map((status) => (
              <li key={status ?? "any"}>
                <label>
                  <input
                    type="radio"
                    name="status"
                    checked={filter.status === status}
                    onChange={() => onChange({ ...filter, status })}
                  />
                  {status ?? "any status"}
                  {stats && <span className="count">{count(status ? stats.statuses[status] : stats.image_count)}</span>}
                </label>
              </li>
            ))}
          </ul>
        </section>
        <section>
          <h2>
            <label htmlFor="split-filter">Split</label>
          </h2>
          <select
            id="split-filter"
            value={filter.split ?? ""}
            onChange={(event) => onChange({ ...filter, split: (event.target.value || null) as SplitFilter | null })}
          >
            <option value="">any split</option>
            {SPLIT_FILTERS.map((split) => (
              <option key={split} value={split}>
                {split === "none" ? "in no split" : split}
                {splits ? ` (${count(splits[split])})` : ""}
              </option>
            ))}
          </select>
          <ul className="choices">
            <li>
              <label>
                <input
                  type="checkbox"
                  checked={filter.duplicates}
                  onChange={() => onChange({ ...filter, duplicates: !filter.duplicates })}
                />
                duplicates only
              </label>
            </li>
          </ul>
        </section>
        <section>
          <h2 id="tags-heading">Tags</h2>
          <div className="segmented" role="group" aria-label="tag match">
            {(["all", "any"] as const).map((match) => (
              <button
                key={match}
                type="button"
                aria-pressed={filter.match === match}
                onClick={() => onChange({ ...filter, match })}
              >
                {match === "all" ? "all of" : "any of"}
              </button>
            ))}
          </div>
          <ul className="choices tags" aria-labelledby="tags-heading">
            <li>
              <label>
                <input
                  type="checkbox"
                  checked={filter.untagged}
                  onChange={() => onChange({ ...filter, tags: [], untagged: !filter.untagged })}
                />
                <em>untagged</em>
                {tags && <span className="count">{count(tags.untagged)}</span>}
              </label>
            </li>
            {tags?.tags
              .filter((t) => t.count > 0 || filter.tags.includes(t.tag))
              .map((t) => (
                <li key={t.tag}>
                  <label>
                    <input type="checkbox" checked={filter.tags.includes(t.tag)} onChange={() => toggleTag(t.tag)} />
                    {t.tag}
                    <span className="count" data-tag-count={t.tag}>
                      {count(t.count)}
                    </span>
                  </label>
                </li>
              ))}
          </ul>
        </section>
      </fieldset>
    </aside>
  );
}
