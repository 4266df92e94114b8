import type { Draft } from '../../shared/draft.ts';

const X264_PRESET: Record<Draft['m']['quality'], string> = {
  standard: 'veryfast',
  // slower presets find more redundancy: a smaller file at the same CRF
  high: 'slow',
};

/** x264 settings of a quality: H.264 High, yuv420p, tagged BT.709 (limited range). */
export function videoEncoderArgs(quality: Draft['m']['quality']): string[] {
  return [
    '-c:v', 'libx264', '-preset', X264_PRESET[quality], '-crf', '20', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', '-color_range', 'tv',
  ];
}

export const AUDIO_ENCODER_ARGS = ['-c:a', 'aac', '-b:a', '128k'];

/** The MP4 container with its index up front, so players start before the download ends. */
export function mp4OutputArgs(outPath: string): string[] {
  return ['-movflags', '+faststart', '-f', 'mp4', `file:${outPath}`];
}
