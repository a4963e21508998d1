/** Following accepted commands (bulk tags, splits) at ``GET /v1/commands/{id}`` until all are done. */
import { useEffect, useState } from "react";
import { api, call, type Schemas } from "./client";

export type Progress = Schemas["CommandProgress"];

export interface Followed {
  /** Each command's latest progress, by id. */
  progress: Record<string, Progress>;
  /** Every command is done (false while there is none). */
  done: boolean;
  matched: number;
  applied: number;
  refused: number;
  error: unknown;
}

/** Poll ``commands`` every ``ms`` until every one is done. */
export function useCommands(commands: string[], ms = 500): Followed {
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  const [error, setError] = useState<unknown>(null);
  const done = commands.length > 0 && commands.every((id) => progress[id]?.status === "done");

  useEffect(() => {
    if (!commands.length || done) return;
    const timer = window.setInterval(async () => {
      try {
        const rows = await Promise.all(
          commands.map((id) => call(api.GET("/v1/commands/{command_id}", { params: { path: { command_id: id } } }))),
        );
        setProgress(Object.fromEntries(rows.map((row) => [row.command_id, row])));
      } catch (failure) {
        setError(failure);
      }
    }, ms);
    return () => window.clearInterval(timer);
  }, [commands, done, ms]);

  const rows = Object.values(progress);
  return {
    progress,
    done,
    matched: rows.reduce((n, p) => n + p.matched, 0),
    applied: rows.reduce((n, p) => n + p.applied, 0),
    refused: rows.reduce((n, p) => n + p.refused, 0),
    error,
  };
}
