/** Uploads straight to storage through the uploads API: one presigned PUT, or a multipart
 * upload part by part; progress per byte, retries with backoff, a few files at a time. */
import { api, ApiError, call } from "./api/client";

export interface UploadItem {
  id: number;
  file: File;
  path: string;
  sent: number;
  state: "queued" | "uploading" | "done" | "failed";
  error?: string;
  attempts: number;
}

const RETRIES = 4;
const BACKOFF_MS = [500, 1500, 4000, 8000];

/** The content type the API accepts for a file the browser may not know. */
export function contentType(file: File): string {
  return file.type.startsWith("image/") ? file.type : "application/octet-stream";
}

/** A file's path under the dataset: its place in a dropped or picked folder, else its name. */
export function uploadPath(file: File, relative?: string): string {
  const path = (relative || (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name)
    .replace(/\\/g, "/")
    .replace(/^\/+/, "");
  return path
    .split("/")
    .filter((part) => part && part !== "." && part !== "..")
    .join("/");
}

/** PUT a body to a presigned URL with upload progress; resolves with the response's ETag. */
function put(url: string, body: Blob, headers: Record<string, string>, onProgress: (sent: number) => void) {
  return new Promise<string>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? resolve(xhr.getResponseHeader("ETag") ?? "")
        : reject(new Error(`storage answered ${xhr.status}`));
    xhr.onerror = () => reject(new Error("network error while sending to storage"));
    xhr.send(body);
  });
}

/** ``attempt`` again after a pause when it fails for a reason a retry can cure. */
async function retried<T>(attempt: () => Promise<T>, onRetry: (n: number) => void): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const final = error instanceof ApiError && error.status < 500 && error.status !== 429;
      if (final || n >= RETRIES) throw error;
      onRetry(n + 1);
      await new Promise((done) => setTimeout(done, BACKOFF_MS[n]));
    }
  }
}

/** Upload one file; ``onProgress`` gets the bytes sent so far. */
export async function upload(
  datasetId: string,
  item: UploadItem,
  onProgress: (sent: number) => void,
  onRetry: (n: number) => void,
): Promise<void> {
  const path = { dataset_id: datasetId };
  const started = await retried(
    () =>
      call(
        api.POST("/v1/datasets/{dataset_id}/uploads", {
          params: { path },
          body: { path: item.path, size: item.file.size, content_type: contentType(item.file), target: "images" },
        }),
      ),
    onRetry,
  );
  if (started.method === "PUT") {
    await retried(() => put(started.url!, item.file, started.headers ?? {}, onProgress), onRetry);
    return;
  }
  const uploadId = started.upload_id!;
  const size = started.part_size!;
  const sentPerPart = new Map<number, number>();
  const report = () => onProgress([...sentPerPart.values()].reduce((a, b) => a + b, 0));
  const parts: { number: number; etag: string }[] = [];
  for (const part of started.parts ?? []) {
    const body = item.file.slice((part.number - 1) * size, part.number * size);
    const etag = await retried(
      () =>
        put(part.url, body, {}, (sent) => {
          sentPerPart.set(part.number, sent);
          report();
        }),
      onRetry,
    );
    parts.push({ number: part.number, etag });
  }
  await retried(
    () =>
      call(
        api.POST("/v1/datasets/{dataset_id}/uploads/{upload_id}/complete", {
          params: { path: { ...path, upload_id: uploadId } },
          body: { parts },
        }),
      ),
    onRetry,
  );
}
