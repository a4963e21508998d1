/** Train / val / test splits of a dataset: the exact counts and shares, assigning (by ratios,
 * by folders, or moving the selection or the filter by hand) with the command's progress, and
 * the leakage report: duplicate groups whose images sit in more than one split. */
import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useState } from "react";
import { api, call, type Schemas } from "../api/client";
import { useCommands } from "../api/commands";
import { keys, useFolders, useLeakage, useSplits } from "../api/queries";
import { MAX_K, parseK } from "../curation";
import { type Filter, SPLIT_FILTERS, SPLITS, type Split } from "../filters";
import { count } from "../format";
import { type Target, targetBatches } from "../selection";
import {
  checkRatios,
  commandStatus,
  DEFAULT_RATIOS,
  folderPlan,
  leakageSummary,
  leakSplits,
  type RatioInput,
  share,
  splitTotal,
} from "../splits";
import { Failure } from "./Failure";
import { SplitBadge } from "./SplitBadge";

type SplitRequest = Schemas["ByRatios"] | Schemas["ByFolders"] | Schemas["ByHand"];
type Mode = "ratios" | "folders" | "manual";
const MODES: { mode: Mode; label: string }[] = [
  { mode: "ratios", label: "By ratios" },
  { mode: "folders", label: "By folders" },
  { mode: "manual", label: "By hand" },
];

interface Props {
  datasetId: string;
  /** Images picked one by one in the grid (none: only the filter can be moved). */
  picked: string[];
  filter: Filter;
  /** The filter for people ("all images", "tags=cat", a view's name). */
  filterLabel: string;
  onClose: () => void;
}

export function SplitsDialog({ datasetId, picked, filter, filterLabel, onClose }: Props) {
  const splits = useSplits(datasetId);
  const [commands, setCommands] = useState<string[]>([]);
  const [running, setRunning] = useState(false);
  const finished = useCallback(() => setRunning(false), []);

  return (
    <div className="backdrop" onKeyDown={(event) => event.key === "Escape" && onClose()}>
      <div role="dialog" aria-modal="true" aria-labelledby="splits-title" className="dialog wide splits-dialog">
        <header className="dialog-head">
          <h2 id="splits-title">Splits</h2>
          <span className="spacer" />
          <button type="button" onClick={onClose} aria-label="Close splits">
            ×
          </button>
        </header>
        {splits.error && <Failure error={splits.error} />}
        <table className="split-counts" aria-label="split counts">
          <thead>
            <tr>
              <th>split</th>
              <th className="num">images</th>
              <th className="num">share</th>
            </tr>
          </thead>
          <tbody>
            {SPLIT_FILTERS.map((split) => (
              <tr key={split} data-split={split}>
                <th scope="row">{split === "none" ? <em>in no split</em> : <SplitBadge split={split} />}</th>
                <td className="num" data-count={split}>
                  {splits.data ? count(splits.data[split]) : "…"}
                </td>
                <td className="num" data-share={split}>
                  {splits.data ? share(splits.data[split], splitTotal(splits.data)) : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Assign
          datasetId={datasetId}
          picked={picked}
          filter={filter}
          filterLabel={filterLabel}
          busy={running}
          onAccepted={(ids) => {
            setRunning(true);
            setCommands(ids);
          }}
        />
        {commands.length > 0 && (
          // Keyed: a new assignment starts its progress afresh.
          <Progress key={commands.join()} datasetId={datasetId} commands={commands} onDone={finished} />
        )}
        <Leakage datasetId={datasetId} />
      </div>
    </div>
  );
}

interface AssignProps {
  datasetId: string;
  picked: string[];
  filter: Filter;
  filterLabel: string;
  busy: boolean;
  onAccepted: (commands: string[]) => void;
}

function Assign({ datasetId, picked, filter, filterLabel, busy, onAccepted }: AssignProps) {
  const [mode, setMode] = useState<Mode>("ratios");
  const [ratios, setRatios] = useState<RatioInput>(DEFAULT_RATIOS);
  const [seed, setSeed] = useState("0");
  const [groupAware, setGroupAware] = useState(true);
  const [keepAssigned, setKeepAssigned] = useState(true);
  const [folders, setFolders] = useState<Record<string, Split | "">>({});
  const [what, setWhat] = useState<"picked" | "filter">(picked.length ? "picked" : "filter");
  const [to, setTo] = useState<Split | "none">("train");
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);
  const known = useFolders(datasetId);

  const checked = checkRatios(ratios);
  const plan = folderPlan(folders);
  const ready =
    mode === "ratios"
      ? checked.ok
      : mode === "folders"
        ? Object.keys(plan).length > 0
        : what === "filter" || picked.length > 0;

  const submit = async () => {
    setError(null);
    const path = { dataset_id: datasetId };
    const bodies: SplitRequest[] = [];
    if (mode === "ratios") {
      if (!checked.ok) return;
      bodies.push({
        mode: "ratios",
        ratios: checked.ratios,
        seed: seed.trim() || "0",
        group_aware: groupAware,
        keep_assigned: keepAssigned,
        k: 6,
      });
    } else if (mode === "folders") {
      bodies.push({ mode: "folders", folders: plan });
    } else {
      const target: Target = what === "picked" ? { ids: picked } : { where: filter };
      const split = to === "none" ? null : to;
      for (const batch of targetBatches(target)) bodies.push({ mode: "manual", split, ...batch } as SplitRequest);
    }
    setSending(true);
    try {
      const accepted = [];
      for (const body of bodies)
        accepted.push(await call(api.POST("/v1/datasets/{dataset_id}/splits", { params: { path }, body })));
      onAccepted(accepted.map((a) => a.command_id));
    } catch (failure) {
      setError(failure);
    } finally {
      setSending(false);
    }
  };

  return (
    <form
      className="assign"
      aria-label="assign splits"
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      <div className="segmented" role="tablist" aria-label="assign by">
        {MODES.map((m) => (
          <button key={m.mode} type="button" role="tab" aria-selected={mode === m.mode} onClick={() => setMode(m.mode)}>
            {m.label}
          </button>
        ))}
      </div>
      {mode === "ratios" && (
        <div role="tabpanel" aria-label="By ratios" className="assign-panel">
          <div className="ratio-inputs">
            {SPLITS.map((split) => (
              <label key={split}>
                {split} %
                <input
                  inputMode="decimal"
                  value={ratios[split]}
                  aria-invalid={!checked.ok && checked.message.startsWith(`${split}:`)}
                  onChange={(event) => setRatios({ ...ratios, [split]: event.target.value })}
                />
              </label>
            ))}
            <label>
              Seed
              <input value={seed} maxLength={128} onChange={(event) => setSeed(event.target.value)} />
            </label>
          </div>
          {!checked.ok && (
            <p className="error" role="alert">
              {checked.message}
            </p>
          )}
          <label className="check">
            <input type="checkbox" checked={groupAware} onChange={() => setGroupAware(!groupAware)} />
            Keep duplicate groups together (exact, and near within 6 bits)
          </label>
          <label className="check">
            <input type="checkbox" checked={keepAssigned} onChange={() => setKeepAssigned(!keepAssigned)} />
            Keep images already in a split (only the others are placed)
          </label>
          <p className="muted">
            Every image is placed by the seed and its path: the same request places the same images the same way.
          </p>
        </div>
      )}
      {mode === "folders" && (
        <div role="tabpanel" aria-label="By folders" className="assign-panel">
          <p className="muted">
            Images under a folder (its subfolders too; the deepest mapped folder wins) go into its split; the others
            stay as they are.
          </p>
          {known.error && <Failure error={known.error} />}
          <ul className="folder-splits">
            {known.data?.folders
              .filter((f) => f.folder !== "")
              .map((f) => (
                <li key={f.folder}>
                  <label>
                    <span className="folder-name" title={f.folder}>
                      {f.folder}
                    </span>
                    <select
                      aria-label={`Split for ${f.folder}`}
                      value={folders[f.folder] ?? ""}
                      onChange={(event) => setFolders({ ...folders, [f.folder]: event.target.value as Split | "" })}
                    >
                      <option value="">leave as is</option>
                      {SPLITS.map((split) => (
                        <option key={split} value={split}>
                          {split}
                        </option>
                      ))}
                    </select>
                  </label>
                </li>
              ))}
          </ul>
          {known.data && known.data.folders.every((f) => f.folder === "") && (
            <p className="muted">This dataset has no folders.</p>
          )}
        </div>
      )}
      {mode === "manual" && (
        <div role="tabpanel" aria-label="By hand" className="assign-panel">
          <fieldset className="move-what">
            <legend>Move</legend>
            <label className="check">
              <input
                type="radio"
                name="move-what"
                checked={what === "picked"}
                disabled={!picked.length}
                onChange={() => setWhat("picked")}
              />
              the selection ({count(picked.length)} image{picked.length === 1 ? "" : "s"})
            </label>
            <label className="check">
              <input type="radio" name="move-what" checked={what === "filter"} onChange={() => setWhat("filter")} />
              every image of the current filter ({filterLabel})
            </label>
          </fieldset>
          <label>
            to
            <select aria-label="Move to" value={to} onChange={(event) => setTo(event.target.value as Split | "none")}>
              {SPLIT_FILTERS.map((split) => (
                <option key={split} value={split}>
                  {split === "none" ? "no split" : split}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {error !== null && <Failure error={error} />}
      <div className="actions">
        <button type="submit" className="primary" disabled={!ready || busy || sending}>
          {mode === "manual" ? "Move" : "Assign splits"}
        </button>
      </div>
    </form>
  );
}

interface ProgressProps {
  datasetId: string;
  commands: string[];
  onDone: () => void;
}

/** The commands' progress; once done, counts, listings and the leakage report are refetched. */
function Progress({ datasetId, commands, onDone }: ProgressProps) {
  const client = useQueryClient();
  const { done, matched, applied, error } = useCommands(commands);
  useEffect(() => {
    if (!done) return;
    for (const key of [keys.splits(datasetId), keys.images(datasetId), keys.stats(datasetId), keys.views(datasetId)])
      void client.invalidateQueries({ queryKey: key });
    onDone();
  }, [done, client, datasetId, onDone]);
  return (
    <div className="progress-block" role="status" aria-label="split progress">
      <progress
        max={Math.max(matched, 1)}
        value={done ? Math.max(matched, 1) : applied}
        aria-label="splitting progress"
      />
      <span>{commandStatus({ status: done ? "done" : "running", matched, applied })}</span>
      {error !== null && <Failure error={error} />}
    </div>
  );
}

/** Duplicate groups (exact, and near within k bits) whose images are in two or more splits. */
function Leakage({ datasetId }: { datasetId: string }) {
  const [text, setText] = useState("6");
  const k = parseK(text);
  const report = useLeakage(datasetId, k);
  return (
    <section className="leakage" aria-label="leakage report">
      <header className="leakage-head">
        <h3>Leakage</h3>
        <label className="check">
          near duplicates within
          <input
            type="number"
            min={0}
            max={MAX_K}
            value={text}
            aria-label="Largest distance in bits"
            onChange={(event) => setText(event.target.value)}
          />
          bits
        </label>
        <button type="button" className="link" onClick={() => void report.refetch()} disabled={report.isFetching}>
          {report.isFetching ? "Checking…" : "Check again"}
        </button>
      </header>
      {report.error && <Failure error={report.error} />}
      {report.data && (
        <>
          <p className={report.data.leaks ? "leak-headline error" : "leak-headline"} aria-live="polite">
            {leakageSummary(report.data)}
          </p>
          <ul className="leaks">
            {report.data.items.map((leak) => (
              <li key={leak.items.map((item) => item.id).join()} className="leak">
                <p>
                  <strong>
                    {count(leak.size)} image{leak.size === 1 ? "" : "s"}
                  </strong>
                  : {leakSplits(leak.splits)}
                  {leak.splits.none ? ` · in no split ${leak.splits.none}` : ""}
                </p>
                <ul className="leak-items">
                  {leak.items.map((item) => (
                    <li key={item.id} data-image={item.id} data-split={item.split ?? "none"}>
                      <span className="leak-thumb">
                        {item.thumb_url ? (
                          <img src={item.thumb_url} alt="" loading="lazy" decoding="async" draggable={false} />
                        ) : null}
                        <SplitBadge split={item.split} />
                      </span>
                      <span className="leak-path" title={item.path}>
                        {item.path}
                      </span>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
