/**
 * Test files run in parallel, and the fault tests stop RabbitMQ for everyone. A lock file shared by every
 * test process on the machine keeps them apart: the fault tests hold it exclusively, other tests that use
 * RabbitMQ hold it shared. No test takes a second lock while holding one, so this cannot deadlock.
 */
const LOCK_FILE = `${Deno.env.get("TMPDIR") ?? "/tmp"}/stratavore-test-broker.lock`;

export async function withBrokerLock<T>(mode: "shared" | "exclusive", fn: () => Promise<T>): Promise<T> {
  const file = await Deno.open(LOCK_FILE, { create: true, write: true });
  try {
    await file.lock(mode === "exclusive");
    return await fn();
  } finally {
    file.close(); // closing releases the lock
  }
}
