import type { Fit } from '../../shared/draft.ts';
import { ffmpegColor } from './filter-escape.ts';
import type { Size } from './frame-warper.ts';

const toBt709 = 'flags=lanczos:out_color_matrix=bt709:out_range=tv';
const finish = 'setsar=1,format=yuv420p';

/**
 * The filter chain that makes a decoded picture exactly `size`, as `fit` asks:
 * `cover` fills it (centre crop), `contain` shows it whole on `background`,
 * `contain-blur` shows it whole over a blurred, darkened copy of itself.
 * For a photo it runs once, on the one decoded frame.
 */
export function fitFilter(fit: Fit, { width, height }: Size, background: string): string {
  const scaled = (mode: 'increase' | 'decrease') =>
    `scale=${width}:${height}:force_original_aspect_ratio=${mode}:force_divisible_by=2:${toBt709}`;
  switch (fit) {
    case 'cover':
      return `${scaled('increase')},crop=${width}:${height},${finish}`;
    case 'contain':
      return `${scaled('decrease')},pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2:color=${ffmpegColor(background)},${finish}`;
    case 'contain-blur': {
      // blurring a small copy and scaling it up is far cheaper than a wide blur at full size
      const small = `${Math.max(2, Math.round(width / 16))}:${Math.max(2, Math.round(height / 16))}`;
      const backdrop =
        `scale=${small}:force_original_aspect_ratio=increase:${toBt709},crop=${small},boxblur=2:1,` +
        `scale=${width}:${height}:flags=bicubic,lutyuv=y=val*0.55`;
      return `split=2[back][front];[back]${backdrop}[backdrop];[front]${scaled('decrease')}[picture];` +
        `[backdrop][picture]overlay=(W-w)/2:(H-h)/2,${finish}`;
    }
  }
}
