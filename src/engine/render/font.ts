import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DraftRenderError } from './timeline.ts';

/** Where Debian's fonts-dejavu-core (installed by the bootstrap) and other distributions put DejaVu Sans. */
const KNOWN_PATHS = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/local/share/fonts/DejaVuSans.ttf',
];

let resolved: string | undefined;

function askFontconfig(): string | undefined {
  try {
    const file = execFileSync('fc-match', ['--format=%{file}', 'DejaVu Sans:style=Book'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return file && existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** The caption font file: DejaVu Sans where it is usually installed, else whatever fontconfig matches for it. */
export function captionFontFile(): string {
  resolved ??= KNOWN_PATHS.find((path) => existsSync(path)) ?? askFontconfig();
  if (!resolved) throw new DraftRenderError('no caption font: install fonts-dejavu-core (or any font fontconfig can find)');
  return resolved;
}
