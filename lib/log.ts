/**
 * Structured logging: JSON lines when the output is not a terminal (or with format "json"), short readable
 * lines in a terminal. Registered secrets are scrubbed from every line, so a token never reaches a log.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogSink {
  write(line: string): void;
  isTerminal(): boolean;
}

const encoder = new TextEncoder();

export const stderrSink: LogSink = {
  write: (line) => {
    try {
      Deno.stderr.writeSync(encoder.encode(line + "\n"));
    } catch {
      // A closed stderr must never take the daemon down.
    }
  },
  isTerminal: () => {
    try {
      return Deno.stderr.isTerminal();
    } catch {
      return false;
    }
  },
};

interface LoggerState {
  level: LogLevel;
  json: boolean;
  sink: LogSink;
  secrets: Set<string>;
}

export class Logger {
  #state: LoggerState;
  #fields: LogFields;

  constructor(state: LoggerState, fields: LogFields = {}) {
    this.#state = state;
    this.#fields = fields;
  }

  /** A logger whose lines also carry these fields (runner, project, component…). */
  child(fields: LogFields): Logger {
    return new Logger(this.#state, { ...this.#fields, ...fields });
  }

  /** Scrub this value from every line written from now on by this logger and its children. */
  redact(secret: string | undefined): void {
    if (secret && secret.length >= 6) this.#state.secrets.add(secret);
  }

  configure(opts: { level?: LogLevel; format?: "auto" | "json" | "text"; sink?: LogSink }): void {
    if (opts.sink) this.#state.sink = opts.sink;
    if (opts.level) this.#state.level = opts.level;
    if (opts.format) {
      this.#state.json = opts.format === "json" || (opts.format === "auto" && !this.#state.sink.isTerminal());
    }
  }

  enabled(level: LogLevel): boolean {
    return ORDER[level] >= ORDER[this.#state.level];
  }

  debug(msg: string, fields?: LogFields): void {
    this.#log("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#log("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#log("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#log("error", msg, fields);
  }

  #log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const all: LogFields = { ...this.#fields, ...fields };
    for (const [k, v] of Object.entries(all)) {
      if (v instanceof Error) {
        all[k] = level === "error" || this.#state.level === "debug" ? v.stack ?? v.message : v.message;
      } else if (v === undefined) delete all[k];
    }
    let line: string;
    if (this.#state.json) {
      line = JSON.stringify({ ts: new Date().toISOString(), level, msg, ...all });
    } else {
      const extra = Object.entries(all).map(([k, v]) =>
        `${k}=${typeof v === "string" ? quote(v) : JSON.stringify(v)}`
      );
      const time = new Date().toISOString().slice(11, 23);
      line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra.length ? " " + extra.join(" ") : ""}`;
    }
    for (const secret of this.#state.secrets) {
      if (line.includes(secret)) line = line.replaceAll(secret, "[redacted]");
    }
    this.#state.sink.write(line);
  }
}

function quote(v: string): string {
  return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
}

/** The process-wide logger; commands configure it once from the validated config. */
export const log = new Logger({ level: "info", json: false, sink: stderrSink, secrets: new Set() });
log.configure({ format: "auto" });
