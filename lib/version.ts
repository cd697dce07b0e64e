/** The one place the version lives; build.ts stamps releases from deno.json, which must agree (a test checks). */
export const VERSION = "0.1.0";
