/** Live dataset events: server-sent events read with fetch (EventSource cannot send a bearer
 * token, and the API refuses tokens in the query string), resumed with Last-Event-ID. */
import { EventSourceParserStream } from "eventsource-parser/stream";
import { useEffect, useRef, useState } from "react";
import { type Filter, filterParams } from "../filters";
import { authHeaders, type Image, type Snapshot } from "./client";

export type LiveEvent =
  | { type: "image.indexed" | "image.updated" | "image.entered"; image: Image; fields: string[] }
  | { type: "image.removed" | "image.left"; image: Pick<Image, "id" | "dataset_id">; fields: string[] }
  | { type: "snapshot.progress" | "snapshot.ready" | "snapshot.failed"; snapshot: Partial<Snapshot> }
  | { type: "reset" };

export type LiveState = "connecting" | "live" | "retrying";

const RETRY_MS = [500, 1000, 2000, 5000, 10000];

/** Follow a dataset's events for ``filter`` while mounted (and ``enabled``); ``onEvent`` gets each one. */
export function useLiveEvents(
  datasetId: string,
  filter: Filter,
  onEvent: (event: LiveEvent) => void,
  enabled = true,
): LiveState {
  const [state, setState] = useState<LiveState>("connecting");
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const query = new URLSearchParams(filterParams(filter)).toString();

  useEffect(() => {
    const stop = new AbortController();
    let lastId: string | null = null;
    let failures = 0;

    async function follow() {
      while (!stop.signal.aborted) {
        try {
          const headers: Record<string, string> = { Accept: "text/event-stream", ...authHeaders() };
          if (lastId) headers["Last-Event-ID"] = lastId;
          const url = `/v1/datasets/${encodeURIComponent(datasetId)}/events${query ? `?${query}` : ""}`;
          const response = await fetch(url, { headers, signal: stop.signal, cache: "no-store" });
          if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
          setState("live");
          failures = 0;
          const events = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
          for await (const message of events as unknown as AsyncIterable<{
            event?: string;
            id?: string;
            data: string;
          }>) {
            if (message.id) lastId = message.id;
            const type = message.event ?? "message";
            if (type === "reset") handler.current({ type: "reset" });
            else if (type.startsWith("image.")) handler.current({ type, ...JSON.parse(message.data) } as LiveEvent);
            else if (type.startsWith("snapshot."))
              handler.current({ type, snapshot: JSON.parse(message.data) } as LiveEvent);
          }
        } catch (error) {
          if (stop.signal.aborted) return;
          console.warn("live events interrupted", error);
        }
        if (stop.signal.aborted) return;
        setState("retrying");
        await new Promise((done) => setTimeout(done, RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]));
      }
    }

    setState("connecting");
    if (!enabled) return;
    void follow();
    return () => stop.abort();
  }, [datasetId, query, enabled]);

  return state;
}
