/** What the CLI prints for people (logs go through pino; this is the program's own output). */
export const out = {
  line(text = ''): void {
    process.stdout.write(`${text}\n`);
  },
  error(text: string): void {
    process.stderr.write(`${text}\n`);
  },
};
