/**
 * Ids as they appear in paths, on the command line and in the web's routes: runner and event ids are
 * bigint serials, written as a positive whole number of at most 15 digits (below 2^53, so they survive
 * JSON). No zod here: the web bundle imports it.
 */
export const ID_PATTERN = "[1-9]\\d{0,14}";
export const ID_RE = new RegExp(`^${ID_PATTERN}$`);
