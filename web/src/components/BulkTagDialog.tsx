/** Add or remove tags on the selection (by ids, or every image a filter matches) and follow the
 * command's progress until it is done. */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, call, type Schemas } from "../api/client";
import { useCommands } from "../api/commands";
import { keys } from "../api/queries";
import { count } from "../format";
import { type Target, targetBatches } from "../selection";
import { Failure } from "./Failure";

interface Props {
  datasetId: string;
  target: Target;
  size: number | null;
  known: string[];
  onClose: () => void;
}

function tagList(text: string): string[] {
  return [
    ...new Set(
      text
        .split(",")
        .map((tag) => tag.trim())
        .filter(Boolean),
    ),
  ];
}

export function BulkTagDialog({ datasetId, target, size, known, onClose }: Props) {
  const client = useQueryClient();
  const [add, setAdd] = useState("");
  const [remove, setRemove] = useState("");
  const [commands, setCommands] = useState<string[]>([]);
  const [failed, setError] = useState<unknown>(null);
  const { done, matched, applied, refused, error: polling } = useCommands(commands);
  const error = failed ?? polling;

  useEffect(() => {
    if (!done) return;
    for (const key of [keys.tags(datasetId), keys.stats(datasetId), keys.images(datasetId)])
      void client.invalidateQueries({ queryKey: key });
  }, [done, client, datasetId]);

  const submit = async () => {
    setError(null);
    const body = { add: tagList(add), remove: tagList(remove) };
    try {
      const path = { dataset_id: datasetId };
      const accepted = [];
      for (const batch of targetBatches(target)) {
        accepted.push(
          await call(
            api.POST("/v1/datasets/{dataset_id}/tags/bulk", {
              params: { path },
              body: { ...body, ...batch } as Schemas["BulkTagRequest"],
            }),
          ),
        );
      }
      setCommands(accepted.map((a) => a.command_id));
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <div className="backdrop" onKeyDown={(e) => e.key === "Escape" && onClose()}>
      <form
        role="dialog"
        aria-modal="true"
        aria-labelledby="bulk-title"
        className="dialog"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <h2 id="bulk-title">
          Tag {size === null ? "all matching images" : `${count(size)} image${size === 1 ? "" : "s"}`}
        </h2>
        <datalist id="known-tags">
          {known.map((tag) => (
            <option key={tag} value={tag} />
          ))}
        </datalist>
        <label>
          Add tags (comma-separated)
          <input value={add} onChange={(e) => setAdd(e.target.value)} list="known-tags" autoFocus />
        </label>
        <label>
          Remove tags
          <input value={remove} onChange={(e) => setRemove(e.target.value)} list="known-tags" />
        </label>
        {commands.length > 0 && (
          <div className="progress-block" role="status">
            <progress max={Math.max(matched, 1)} value={applied + refused} aria-label="tagging progress" />
            <span>
              {done ? "Done" : "Tagging"}: {count(applied)} changed of {count(matched)} matched
              {refused ? `, ${count(refused)} refused (too many tags)` : ""}
            </span>
          </div>
        )}
        {error !== null && <Failure error={error} />}
        <div className="actions">
          <button type="button" onClick={onClose}>
            {done ? "Close" : "Cancel"}
          </button>
          <button
            type="submit"
            className="primary"
            disabled={commands.length > 0 || (!tagList(add).length && !tagList(remove).length)}
          >
            Apply
          </button>
        </div>
      </form>
    </div>
  );
}
