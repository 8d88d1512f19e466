"use client";
// Submit through /api/translate, poll /api/status/<id> with SWR until the job ends, then play the scene: the
// service's standalone page in a sandboxed iframe (its scripts run in an opaque origin, never in this app's).
import { useState } from "react";
import type { FormEvent } from "react";
import useSWR from "swr";
import type { ErrorBody, JobView } from "../lib/gateway";

const DONE = new Set(["finished", "failed"]);

async function readJson<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => null)) as (T & Partial<ErrorBody>) | null;
  if (!response.ok) throw new Error(body?.message ?? `the server answered HTTP ${response.status}`);
  if (body === null) throw new Error("the server answered without JSON");
  return body;
}

const fetchJob = (url: string): Promise<JobView> => fetch(url, { cache: "no-store" }).then(readJson<JobView>);

export default function Home() {
  const [prompt, setPrompt] = useState("");
  const [jobId, setJobId] = useState<string | null>(null);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [started, setStarted] = useState(0);
  const [replays, setReplays] = useState(0);

  const { data: job, error: pollError } = useSWR<JobView, Error>(jobId ? `/api/status/${jobId}` : null, fetchJob, {
    refreshInterval: (latest) => (latest && DONE.has(latest.status) ? 0 : 1000),
    revalidateOnFocus: false,
  });

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSubmitting(true);
    setSubmitError(null);
    try {
      const accepted = await fetch("/api/translate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ prompt }),
      }).then(readJson<{ id: string }>);
      setStarted(Date.now());
      setJobId(accepted.id);
    } catch (err) {
      setSubmitError(err instanceof Error ? err.message : String(err));
    } finally {
      setSubmitting(false);
    }
  }

  const elapsed = job?.created_at && job.ended_at
    ? (Date.parse(job.ended_at) - Date.parse(job.created_at)) / 1000
    : started ? (Date.now() - started) / 1000 : 0;
  const problem = submitError ?? pollError?.message ?? (job?.status === "failed" ? job.error?.message : null);

  return (
    <main style={{ maxWidth: 1100, margin: "0 auto", padding: 20 }}>
      <h1>text2pixi</h1>
      <form onSubmit={submit} style={{ display: "flex", gap: 8 }}>
        <input
          aria-label="prompt"
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
          placeholder="three blue squares spinning in a row"
          style={{ flex: 1, padding: 8 }}
        />
        <button type="submit" disabled={submitting}>Animate</button>
      </form>
      {jobId && (
        <p role="status">
          {job ? job.status : "queued"}
          {job?.status === "queued" && typeof job.queue_position === "number" ? ` (position ${job.queue_position + 1})` : ""}
          {job && DONE.has(job.status) ? ` in ${elapsed.toFixed(1)} s` : ""}
        </p>
      )}
      {problem && <p role="alert" style={{ color: "#ff6b6b" }}>{problem}</p>}
      {job?.status === "finished" && job.result && (
        <section style={{ display: "grid", gridTemplateColumns: "3fr 2fr", gap: 16 }}>
          <div>
            <iframe
              key={`${job.id}-${replays}`}
              title="animation"
              sandbox="allow-scripts"
              src={`/api/status/${job.id}?format=html`}
              style={{ width: "100%", aspectRatio: `${job.result.scene.w ?? 800} / ${(job.result.scene.h ?? 600) + 40}`, border: 0 }}
            />
            <button type="button" onClick={() => setReplays((n) => n + 1)}>Replay</button>
            <button type="button" onClick={() => void navigator.clipboard.writeText(job.result?.js ?? "")}>Copy code</button>
            <a href={`/api/status/${job.id}?format=html`} download={`text2pixi-${job.id}.html`}>Download HTML</a>
          </div>
          <pre style={{ overflow: "auto", maxHeight: 600, fontSize: 12 }}>{JSON.stringify(job.result.scene, null, 2)}</pre>
        </section>
      )}
    </main>
  );
}
