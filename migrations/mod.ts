/**
 * The migrations, imported as text so `deno compile` embeds them. Add a file, add a line: never edit a
 * migration that has shipped (the daemon refuses to start when an applied one changed).
 */
import m001 from "./001_init.sql" with { type: "text" };
import m002 from "./002_agent.sql" with { type: "text" };
import m003 from "./003_events.sql" with { type: "text" };
import m004 from "./004_budgets.sql" with { type: "text" };
import m005 from "./005_reported_usage.sql" with { type: "text" };
import m006 from "./006_approvals.sql" with { type: "text" };
import m007 from "./007_security.sql" with { type: "text" };
import m008 from "./008_limits.sql" with { type: "text" };
import m009 from "./009_worktrees.sql" with { type: "text" };
import m010 from "./010_dashboard_sessions.sql" with { type: "text" };
import m011 from "./011_installation.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  { version: 1, name: "001_init", sql: m001 },
  { version: 2, name: "002_agent", sql: m002 },
  { version: 3, name: "003_events", sql: m003 },
  { version: 4, name: "004_budgets", sql: m004 },
  { version: 5, name: "005_reported_usage", sql: m005 },
  { version: 6, name: "006_approvals", sql: m006 },
  { version: 7, name: "007_security", sql: m007 },
  { version: 8, name: "008_limits", sql: m008 },
  { version: 9, name: "009_worktrees", sql: m009 },
  { version: 10, name: "010_dashboard_sessions", sql: m010 },
  { version: 11, name: "011_installation", sql: m011 },
];
