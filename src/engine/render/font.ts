import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { FontFamily, FontWeight } from '../../shared/jobs/draft.ts';
import { fontMetrics, missingGlyphs } from './font-metrics.ts';
import { DraftRenderError } from './timeline.ts';

interface FontFace {
  /** Debian's files (fonts-dejavu-core, fonts-noto-cjk), then other distributions' */
  files: readonly string[];
  /** what fontconfig is asked when none of them is there */
  pattern: string;
  /** the Debian package that installs it */
  debianPackage: string;
}

const dejavu = (file: string, pattern: string): FontFace => ({
  files: ['truetype/dejavu', 'dejavu', 'TTF'].map((dir) => `/usr/share/fonts/${dir}/${file}`),
  pattern,
  debianPackage: 'fonts-dejavu-core',
});

const noto = (file: string, pattern: string): FontFace => ({
  files: ['opentype/noto', 'noto-cjk', 'google-noto-cjk', 'OTF'].map((dir) => `/usr/share/fonts/${dir}/${file}`),
  pattern,
  debianPackage: 'fonts-noto-cjk',
});

const FACES: Record<FontFamily, Record<FontWeight, FontFace>> = {
  'dejavu-sans': { regular: dejavu('DejaVuSans.ttf', 'DejaVu Sans:style=Book'), bold: dejavu('DejaVuSans-Bold.ttf', 'DejaVu Sans:style=Bold') },
  'dejavu-serif': { regular: dejavu('DejaVuSerif.ttf', 'DejaVu Serif:style=Book'), bold: dejavu('DejaVuSerif-Bold.ttf', 'DejaVu Serif:style=Bold') },
  'dejavu-mono': { regular: dejavu('DejaVuSansMono.ttf', 'DejaVu Sans Mono:style=Book'), bold: dejavu('DejaVuSansMono-Bold.ttf', 'DejaVu Sans Mono:style=Bold') },
  'noto-sans-cjk': { regular: noto('NotoSansCJK-Regular.ttc', 'Noto Sans CJK SC:style=Regular'), bold: noto('NotoSansCJK-Bold.ttc', 'Noto Sans CJK SC:style=Bold') },
  'noto-serif-cjk': { regular: noto('NotoSerifCJK-Regular.ttc', 'Noto Serif CJK SC:style=Regular'), bold: noto('NotoSerifCJK-Bold.ttc', 'Noto Serif CJK SC:style=Bold') },
};

/** fontconfig's file for a pattern, only when it is the family asked for (fc-match always answers something). */
function askFontconfig(pattern: string): string | undefined {
  try {
    const [file, family] = execFileSync('fc-match', ['--format=%{file}\n%{family}', pattern], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
    const wanted = pattern.split(':')[0]!;
    return file && family?.split(',').includes(wanted) && existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

const resolved = new Map<string, string>();

/** The file of a bundled font: where its package puts it, else what fontconfig finds; a DraftRenderError naming the package when it is not installed. */
export function fontFile(family: FontFamily, weight: FontWeight = 'regular'): string {
  const key = `${family}:${weight}`;
  let file = resolved.get(key);
  if (!file) {
    const face = FACES[family][weight];
    file = face.files.find((path) => existsSync(path)) ?? askFontconfig(face.pattern);
    if (!file) throw new DraftRenderError(`the caption font ${family} (${weight}) is not installed: install ${face.debianPackage}`);
    resolved.set(key, file);
  }
  return file;
}

/** Tried in order for a caption that names no font: the first with the fewest missing glyphs. */
const AUTOMATIC: readonly FontFamily[] = ['dejavu-sans', 'noto-sans-cjk'];

/**
 * The family a caption is drawn in: the one it names, else DejaVu Sans, or
 * Noto Sans CJK when that has glyphs DejaVu lacks (Chinese, Japanese, Korean).
 */
export function captionFamily(text: string, named: FontFamily | undefined, weight: FontWeight): FontFamily {
  if (named) return named;
  const [first, ...others] = AUTOMATIC;
  const missingIn = (family: FontFamily) => missingGlyphs(fontMetrics(fontFile(family, weight)), text);
  let best = { family: first!, missing: missingIn(first!) };
  for (const family of others) {
    if (best.missing === 0) break;
    const missing = missingIn(family);
    if (missing < best.missing) best = { family, missing };
  }
  return best.family;
}
