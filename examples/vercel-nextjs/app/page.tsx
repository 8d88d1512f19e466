"use client";
// Submit through /api/translate, poll /api/status/<id> with SWR until the job ends, then play the scene: the
// service's standalone page in a sandboxed iframe (its scripts run in an opaque origin, never in this app's).
// Meanwhile an EventSource on /api/status/<id>/events shows the progress (attempt, objects, tokens); polling stays
// the way the page learns how the job ended, and works alone where the stream does not.
import { useEffect, useRef, useState } from "react";
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

/** What the event stream said so far (the events' data: see the README). */
interface Progress {
  attempt: number;
  objects: number;
  tokens: number;
  expected: number;
  elapsed: number;
  reasons: string[];
}

interface EventData {
  attempt?: number;
  index?: number;
  tokens?: number;
  expected_tokens?: number;
  elapsed_s?: number;
  reason?: string;
}

/** Follow /api/status/<id>/events until the job ends; ``onEnd`` asks SWR for the final view at once. */
function useProgress(jobId: string | null, onEnd: () => void): Progress | null {
  const [progress, setProgress] = useState<Progress | null>(null);
  const ended = useRef(onEnd);
  ended.current = onEnd;
  useEffect(() => {
    setProgress(null);
    if (!jobId || typeof EventSource === "undefined") return;
    const source = new EventSource(`/api/status/${jobId}/events`);
    let now: Progress = { attempt: 1, objects: 0, tokens: 0, expected: 0, elapsed: 0, reasons: [] };
    const on = (type: string, change: (d: EventData) => Partial<Progress>) =>
      source.addEventListener(type, (event) => {
        const data = JSON.parse((event as MessageEvent<string>).data) as EventData;
        const attempt = data.attempt ?? now.attempt;
        if (attempt > now.attempt) now = { ...now, attempt, objects: 0 }; // a re-ask starts the scene over
        now = { ...now, ...change(data) };
        setProgress(now);
      });
    on("started", (d) => ({ expected: d.expected_tokens ?? now.expected }));
    on("tokens", (d) => ({ tokens: d.tokens ?? 0, expected: d.expected_tokens ?? now.expected, elapsed: d.elapsed_s ?? 0 }));
    on("object", (d) => ({ objects: Math.max(now.objects, (d.index ?? 0) + 1) }));
    on("reask", (d) => ({ reasons: [...now.reasons, `attempt ${d.attempt}: ${d.reason}`] }));
    for (const end of ["finished", "failed"]) source.addEventListener(end, () => { source.close(); ended.current(); });
    return () => source.close();
  }, [jobId]);
  return progress;
}

export default function Home() {
  const [prompt, setPrompt] = useState("");
  const [jobId, setJobId] = useState<string | null>(null);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [started, setStarted] = useState(0);
  const [replays, setReplays] = useState(0);

  const { data: job, error: pollError, mutate } = useSWR<JobView, Error>(jobId ? `/api/status/${jobId}` : null, fetchJob, {
    refreshInterval: (latest) => (latest && DONE.has(latest.status) ? 0 : 1000),
    revalidateOnFocus: false,
  });
  const progress = useProgress(jobId, () => void mutate());

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
      {progress && !(job && DONE.has(job.status)) && (
        <div aria-label="progress">
          <progress value={progress.tokens} max={progress.expected || undefined} />
          {` attempt ${progress.attempt} · ${progress.objects} object${progress.objects === 1 ? "" : "s"} · `}
          {`${progress.tokens} / ${progress.expected || "?"} tokens · ${progress.elapsed.toFixed(1)} s`}
          {progress.reasons.length > 0 && <ul>{progress.reasons.map((r) => <li key={r}>{r}</li>)}</ul>}
        </div>
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
          {/* The scene as the model wrote it: the v2 source (what a refinement patches), else the compiled scene. */}
          <pre style={{ overflow: "auto", maxHeight: 600, fontSize: 12 }}>
            {JSON.stringify(job.result.source ?? job.result.scene, null, 2)}
          </pre>
        </section>
      )}
    </main>
  );
}
