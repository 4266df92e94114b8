import type { Fit, FocusPoint } from '../../shared/jobs/draft.ts';
import { ffmpegColor } from './filter-escape.ts';
import type { Size } from './frame-warper.ts';

const lanczos = 'flags=lanczos:out_range=tv';
// converting the colour matrix (a JPEG's is BT.601) after shrinking is much cheaper than on a 12 MP photo
const finish = 'scale=out_color_matrix=bt709:out_range=tv,setsar=1,format=yuv420p';

/**
 * The filter chain that makes a decoded picture exactly `size`, as `fit` asks:
 * `cover` fills it (a crop aligned by `crop`, 0–1 per axis; unset: the centre),
 * `contain` shows it whole on `background`, `contain-blur` shows it whole over
 * a blurred, darkened copy of itself. For a photo it runs once, on the one decoded frame.
 */
export function fitFilter(fit: Fit, { width, height }: Size, background: string, crop?: FocusPoint): string {
  const scaled = (mode: 'increase' | 'decrease') =>
    `scale=${width}:${height}:force_original_aspect_ratio=${mode}:force_divisible_by=2:${lanczos}`;
  // cropping to the frame's shape first spares scaling the pixels a cover crop would throw away
  const aligned = crop ? `:x=(iw-ow)*${crop.x.toFixed(6)}:y=(ih-oh)*${crop.y.toFixed(6)}` : '';
  const cropToShape = `crop=w=min(iw\\,ih*${width}/${height}):h=min(ih\\,iw*${height}/${width})${aligned}`;
  switch (fit) {
    case 'cover':
      return `${cropToShape},scale=${width}:${height}:${lanczos},${finish}`;
    case 'contain':
      return `${scaled('decrease')},pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:color=${ffmpegColor(background)},${finish}`;
    case 'contain-blur': {
      // blurring a small copy and scaling it up is far cheaper than a wide blur at full size
      const small = `${Math.max(2, Math.round(width / 16))}:${Math.max(2, Math.round(height / 16))}`;
      const backdrop =
        `scale=${small}:force_original_aspect_ratio=increase:${lanczos},crop=${small},boxblur=2:1,` +
        `scale=${width}:${height}:flags=bicubic,lutyuv=y=val*0.55`;
      return `split=2[back][front];[back]${backdrop}[backdrop];[front]${scaled('decrease')}[picture];` +
        `[backdrop][picture]overlay=(W-w)/2:(H-h)/2,${finish}`;
    }
  }
}
