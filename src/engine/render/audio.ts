import { localFileInput } from '../../shared/media/ffmpeg-input.ts';
import type { PlannedAudio } from './timeline.ts';

const seconds = (value: number) => String(Number(value.toFixed(6)));

/** Input arguments of the audio segments; a looped one repeats its file without end (trimmed in the graph). */
export function audioInputArgs(audio: PlannedAudio[]): string[] {
  return audio.flatMap((a) => [...(a.loop ? ['-stream_loop', '-1'] : []), ...localFileInput(a.path)]);
}

/**
 * The audio part of the graph, ending in [aout]: each segment trimmed (or
 * looped) to its length, at its volume, faded out at its end, placed at its
 * start; mixed without level normalisation; padded with silence or cut to
 * exactly the video's duration. `firstInput` is the index of the first audio input.
 */
export function audioGraph(audio: PlannedAudio[], firstInput: number, durationS: number): string | undefined {
  if (audio.length === 0) return undefined;
  const chains = audio.map((a, i) => {
    const filters = [
      `atrim=duration=${seconds(a.durationS)}`,
      'asetpts=PTS-STARTPTS',
      'aformat=sample_rates=48000:channel_layouts=stereo',
      `volume=${seconds(a.volume)}`,
      ...(a.fadeOutS > 0 ? [`afade=t=out:st=${seconds(a.durationS - a.fadeOutS)}:d=${seconds(a.fadeOutS)}`] : []),
      ...(a.startS > 0 ? [`adelay=delays=${Math.round(a.startS * 1000)}:all=1`] : []),
    ];
    return `[${firstInput + i}:a]${filters.join(',')}[a${i}]`;
  });
  const labels = audio.map((_, i) => `[a${i}]`).join('');
  const mix = audio.length > 1 ? `amix=inputs=${audio.length}:duration=longest:normalize=0,` : 'anull,';
  return [...chains, `${labels}${mix}apad=whole_dur=${seconds(durationS)},atrim=duration=${seconds(durationS)}[aout]`].join(';');
}
