// A client loop for the journeys: connects, runs one query, disconnects, again and again
// until stopped, counting successes and errors and keeping the longest wait.
import { Client } from "pg";

export interface LoopResult {
  ok: number;
  errors: string[];
  /** Longest time one iteration took (connect + query), in ms: what a client sees as a pause. */
  maxMs: number;
}

export interface Loop {
  stop(): Promise<LoopResult>;
}

/** Starts a loop on `url`; `query` runs in each session (default `select 1`). */
export function startLoop(url: string, query = "select 1", pauseMs = 50): Loop {
  const result: LoopResult = { ok: 0, errors: [], maxMs: 0 };
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = Date.now();
      const c = new Client({ connectionString: url, connectionTimeoutMillis: 120_000, query_timeout: 120_000 });
      try {
        await c.connect();
        await c.query(query);
        result.ok++;
      } catch (e) {
        result.errors.push(String(e));
      } finally {
        await c.end().catch(() => undefined);
      }
      result.maxMs = Math.max(result.maxMs, Date.now() - t0);
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return result;
    },
  };
}
