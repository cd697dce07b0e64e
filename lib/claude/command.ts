/** Whether a command line runs Claude Code: token accounting reads Claude Code's transcripts only. */
export function isClaude(command: string): boolean {
  const base = command.split(/[\\/]/).pop() ?? command;
  return /^claude(\.exe|\.cmd|\.bat)?$/i.test(base);
}
