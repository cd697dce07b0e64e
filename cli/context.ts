/** Moved to lib/startup.ts (the agent and the daemon use it too); kept for CLI modules that import it here. */
export * from "../lib/startup.ts";
