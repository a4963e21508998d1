/** Exact duplicates of a dataset: groups of files with the same bytes, largest first, side by side;
 * "Keep this one" deletes the group's other images (after a confirm) and the group goes once the
 * index has followed (polled, and refreshed by the page's live events). */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import type { Image } from "../api/client";
import { deleteImage, keys, useDuplicates } from "../api/queries";
import {
  awaitingIndex,
  type Deletion,
  deletionFinished,
  deletionStatus,
  liveDeletions,
  mergeGroups,
  shortHash,
  startDeletion,
} from "../curation";
import { bytes, count, when } from "../format";
import { Failure } from "./Failure";

interface Group {
  sha256: string;
  count: number;
  items: Image[];
}

interface Props {
  datasetId: string;
  onOpen: (imageId: string) => void;
}

export function Duplicates({ datasetId, onOpen }: Props) {
  const client = useQueryClient();
  const [poll, setPoll] = useState(false);
  const query = useDuplicates(datasetId, poll);
  const groups: Group[] = useMemo(() => mergeGroups(query.data?.pages ?? []), [query.data]);
  const [deletions, setDeletions] = useState<Record<string, Deletion>>({});
  const [confirming, setConfirming] = useState<{ group: Group; keep: Image } | null>(null);

  // Forget deletions that are over; poll while one waits for the index to drop its images.
  const live = useMemo(() => liveDeletions(deletions, groups), [deletions, groups]);
  useEffect(() => {
    if (Object.keys(live).length !== Object.keys(deletions).length) setDeletions(live);
  }, [live, deletions]);
  const bySha = useMemo(() => new Map(groups.map((group) => [group.sha256, group])), [groups]);
  const waiting = Object.entries(live).some(
    ([sha256, deletion]) => deletionFinished(deletion) && awaitingIndex(bySha.get(sha256), deletion),
  );
  useEffect(() => setPoll(waiting), [waiting]);

  const keep = async (group: Group, kept: Image) => {
    const started = startDeletion(group, kept.id);
    const change = (edit: (deletion: Deletion) => Deletion) =>
      setDeletions((all) => (all[group.sha256] ? { ...all, [group.sha256]: edit(all[group.sha256]) } : all));
    setDeletions((all) => ({ ...all, [group.sha256]: started }));
    for (const id of started.ids) {
      try {
        await deleteImage(id);
        change((d) => ({ ...d, done: [...d.done, id] }));
      } catch (failure) {
        const message = failure instanceof Error ? failure.message : String(failure);
        change((d) => ({ ...d, failed: [...d.failed, { id, message }] }));
      }
    }
    void client.invalidateQueries({ queryKey: keys.duplicates(datasetId) });
  };

  return (
    <section className="duplicates" aria-label="duplicates">
      <p className="muted">
        Files with exactly the same bytes, largest groups first. Keep one image of a group and the others are deleted
        from storage.
      </p>
      {query.error && <Failure error={query.error} />}
      {query.data && groups.length === 0 && <p className="empty muted">No duplicates in this dataset.</p>}
      {groups.map((group) => (
        <DuplicateGroup
          key={group.sha256}
          group={group}
          deletion={live[group.sha256]}
          onOpen={onOpen}
          onKeep={(kept) => setConfirming({ group, keep: kept })}
        />
      ))}
      {query.hasNextPage && (
        <button type="button" onClick={() => void query.fetchNextPage()} disabled={query.isFetchingNextPage}>
          {query.isFetchingNextPage ? "Loading…" : "Load more groups"}
        </button>
      )}
      {confirming && (
        <KeepDialog
          group={confirming.group}
          keep={confirming.keep}
          onCancel={() => setConfirming(null)}
          onConfirm={() => {
            setConfirming(null);
            void keep(confirming.group, confirming.keep);
          }}
        />
      )}
    </section>
  );
}

interface GroupProps {
  group: Group;
  deletion: Deletion | undefined;
  onOpen: (imageId: string) => void;
  onKeep: (image: Image) => void;
}

function DuplicateGroup({ group, deletion, onOpen, onKeep }: GroupProps) {
  const busy = deletion !== undefined && !(deletionFinished(deletion) && deletion.failed.length > 0);
  const deleted = new Set(deletion?.done ?? []);
  const paths = new Map(group.items.map((item) => [item.id, item.path]));
  const size = group.items[0]?.size;
  return (
    <section
      className="dup-group"
      aria-label={`group of ${group.count} identical files`}
      data-sha256={group.sha256}
      aria-busy={busy}
    >
      <header>
        <h3>{count(group.count)} identical files</h3>
        <span className="muted">
          {size !== undefined ? `${bytes(size)} each · ` : ""}sha256{" "}
          <code title={group.sha256}>{shortHash(group.sha256)}</code>
          {group.count > group.items.length ? ` · showing ${count(group.items.length)}` : ""}
        </span>
      </header>
      <ul className="dup-items">
        {group.items.map((item) => (
          <li
            key={item.id}
            data-image={item.id}
            className={deletion?.keep === item.id ? "kept" : deleted.has(item.id) ? "deleted" : undefined}
          >
            <button
              type="button"
              className="dup-thumb"
              onClick={() => onOpen(item.id)}
              aria-label={`Open ${item.path}`}
            >
              {item.thumb_url ? (
                <img src={item.thumb_url} alt="" loading="lazy" decoding="async" draggable={false} />
              ) : (
                <span className="tile-name">{item.file_name}</span>
              )}
            </button>
            <span className="dup-path" title={item.path}>
              {item.path}
            </span>
            <span className="muted dup-meta">
              {bytes(item.size)} · {when(item.uploaded_at)}
            </span>
            {deletion?.keep === item.id ? (
              <span className="dup-kept">Kept</span>
            ) : deleted.has(item.id) ? (
              <span className="muted">Deleted</span>
            ) : (
              <button type="button" disabled={busy} onClick={() => onKeep(item)}>
                Keep this one
              </button>
            )}
          </li>
        ))}
      </ul>
      {deletion && (
        <div className="progress-block" role="status">
          <progress
            max={Math.max(deletion.ids.length, 1)}
            value={deletion.done.length + deletion.failed.length}
            aria-label="deleting progress"
          />
          <span>{deletionStatus(deletion)}</span>
        </div>
      )}
      {deletion?.failed.map((failure) => (
        <p key={failure.id} role="alert" className="error">
          Could not delete {paths.get(failure.id) ?? failure.id}: {failure.message}
        </p>
      ))}
    </section>
  );
}

interface DialogProps {
  group: Group;
  keep: Image;
  onCancel: () => void;
  onConfirm: () => void;
}

function KeepDialog({ group, keep, onCancel, onConfirm }: DialogProps) {
  const others = group.items.filter((item) => item.id !== keep.id);
  const n = others.length;
  return (
    <div className="backdrop" onKeyDown={(event) => event.key === "Escape" && onCancel()}>
      <div role="dialog" aria-modal="true" aria-labelledby="keep-title" className="dialog">
        <h2 id="keep-title">Keep one copy</h2>
        <p>
          Keep <strong>{keep.path}</strong> and delete {n === 1 ? "the other copy" : `the ${count(n)} other copies`}{" "}
          from storage:
        </p>
        <ul className="dup-doomed">
          {others.map((item) => (
            <li key={item.id}>
              <code>{item.path}</code>
            </li>
          ))}
        </ul>
        <p className="muted">This cannot be undone.</p>
        <div className="actions">
          <button type="button" onClick={onCancel} autoFocus>
            Cancel
          </button>
          <button type="button" className="primary danger" onClick={onConfirm}>
            Delete {count(n)} {n === 1 ? "image" : "images"}
          </button>
        </div>
      </div>
    </div>
  );
}
