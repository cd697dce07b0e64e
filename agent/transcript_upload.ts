/** At the end of a run, each session's transcript goes to the daemon, gzip-compressed, to be kept. */
import type { RunnerClient } from "../lib/runner_client.ts";
import type { Logger } from "../lib/log.ts";

export async function gzipFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  const file = await Deno.open(path, { read: true });
  const gz = file.readable.pipeThrough(
    new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
  return new Uint8Array(await new Response(gz).arrayBuffer());
}

export async function uploadTranscripts(
  client: RunnerClient,
  runnerId: number,
  transcripts: Map<string, string>,
  log: Logger,
): Promise<void> {
  for (const [sessionId, path] of transcripts) {
    try {
      const stored = await client.uploadTranscript(runnerId, sessionId, await gzipFile(path));
      log.info("transcript kept by the daemon", {
        session: sessionId,
        bytes: stored.bytes,
        lines: stored.lines,
      });
    } catch (e) {
      log.warn("could not hand the transcript to the daemon", {
        session: sessionId,
        error: (e as Error).message,
      });
    }
  }
}
