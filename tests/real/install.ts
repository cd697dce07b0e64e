/** Installs the real-client tier's pinned npm packages into the test cache (used by .ci/run). */
import { ensureCcusage, ensureClaudeCode } from "./claude_code.ts";

console.error(`real-client tier: ${await ensureClaudeCode()}, ${await ensureCcusage()}`);
