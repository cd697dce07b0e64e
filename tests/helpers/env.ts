/**
 * What the test run can reach. With CI=true the PostgreSQL and RabbitMQ tests always run (and fail when
 * the service is down); elsewhere they are reported as ignored when the service does not answer.
 */
export const CI = Deno.env.get("CI") === "true";

export const PG_ADMIN_URL = Deno.env.get("STRATAVORE_TEST_PG_URL") ??
  "postgres://postgres@127.0.0.1:5432/postgres";
export const AMQP_TEST_URL = Deno.env.get("STRATAVORE_TEST_AMQP_URL") ?? "amqp://guest:guest@127.0.0.1:5672";

async function answers(hostname: string, port: number): Promise<boolean> {
  try {
    const conn = await Promise.race([
      Deno.connect({ hostname, port }),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), 1000)),
    ]);
    conn.close();
    return true;
  } catch {
    return false;
  }
}

const pgUrl = new URL(PG_ADMIN_URL);
const amqpUrl = new URL(AMQP_TEST_URL);

export const PG_AVAILABLE = await answers(pgUrl.hostname, Number(pgUrl.port || 5432));
export const AMQP_AVAILABLE = await answers(amqpUrl.hostname, Number(amqpUrl.port || 5672));

/** Ignore a PostgreSQL test only outside CI and only when no server answers. */
export const SKIP_PG = !PG_AVAILABLE && !CI;
export const SKIP_AMQP = !AMQP_AVAILABLE && !CI;

/**
 * The fast tier (`deno task test:fast`): no daemon subprocess. Tests that start one are registered as
 * ignored (eachDaemon does it; a test calling startDaemon itself says `ignore: FAST_TIER`), and startDaemon
 * refuses to run, so a test that is put in the wrong tier fails instead of slowing the tier down.
 */
export const FAST_TIER = Deno.env.get("STRATAVORE_TEST_TIER") === "fast";

export const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
export const MAIN = `${REPO}/main.ts`;
