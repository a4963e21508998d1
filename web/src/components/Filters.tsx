/** The filter sidebar: folders, status, tags (any/all, untagged) with their exact counts. */
import type { Dataset, Schemas } from "../api/client";
import { type Filter, STATUSES } from "../filters";
import { count } from "../format";
import { FolderTree } from "./FolderTree";

interface Props {
  datasetId: string;
  filter: Filter;
  stats?: Dataset;
  tags?: Schemas["DatasetTags"];
  onChange: (filter: Filter) => void;
}

export function Filters({ datasetId, filter, stats, tags, onChange }: Props) {
  const toggleTag = (tag: string) =>
    onChange({
      ...filter,
      untagged: false,
      tags: filter.tags.includes(tag) ? filter.tags.filter((t) => t !== tag) : [...filter.tags, tag],
    });
  return (
    <aside className="filters" aria-label="filters">
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
    </aside>
  );
}
