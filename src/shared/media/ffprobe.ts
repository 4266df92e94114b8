import { probeInput } from './ffmpeg-input.ts';
import { runProcess } from '../infra/process.ts';

export interface MediaInfo {
  formatName: string;
  durationS: number;
  sizeBytes: number;
  video?: { codec: string; width: number; height: number; pixFmt: string; fps: number; profile?: string; colorSpace?: string; frames?: number };
  audio?: { codec: string; sampleRate: number; channels: number };
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  color_space?: string;
  nb_frames?: string;
  sample_rate?: string;
  channels?: number;
}

function rate(value: string | undefined): number {
  const [num, den] = (value ?? '0/1').split('/').map(Number);
  return num && den ? num / den : 0;
}

const PROBE_TIMEOUT_MS = 30_000;

/** ffprobe's view of a media file: what the store stage records and tests assert. */
export async function probeMedia(path: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<MediaInfo> {
  const { stdout } = await runProcess(
    'ffprobe',
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', ...probeInput(path)],
    { timeoutMs: options.timeoutMs ?? PROBE_TIMEOUT_MS, signal: options.signal },
  );
  const data = JSON.parse(stdout) as { format?: { format_name?: string; duration?: string; size?: string }; streams?: ProbeStream[] };
  const streams = data.streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video');
  const a = streams.find((s) => s.codec_type === 'audio');
  return {
    formatName: data.format?.format_name ?? '',
    durationS: Number(data.format?.duration ?? 0),
    sizeBytes: Number(data.format?.size ?? 0),
    video: v
      ? {
          codec: v.codec_name ?? '',
          width: v.width ?? 0,
          height: v.height ?? 0,
          pixFmt: v.pix_fmt ?? '',
          fps: rate(v.avg_frame_rate) || rate(v.r_frame_rate),
          profile: v.profile,
          colorSpace: v.color_space,
          frames: v.nb_frames ? Number(v.nb_frames) : undefined,
        }
      : undefined,
    audio: a ? { codec: a.codec_name ?? '', sampleRate: Number(a.sample_rate ?? 0), channels: a.channels ?? 0 } : undefined,
  };
}
