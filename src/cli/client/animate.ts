import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MOTIONS } from '../../shared/jobs/draft.ts';
import { ASPECT_RATIOS, OUTPUT_FORMATS, PLATFORMS, RESOLUTIONS, type OutputOption } from '../../shared/jobs/job-options.ts';
import { PRESETS } from '../../shared/jobs/presets.ts';
import { out } from '../output.ts';
import type { ApiClient, CreateJobRequest } from './api-client.ts';
import { clientAction } from './command-runner.ts';
import { followJob } from './follow-job.ts';
import { describeResult } from './job-format.ts';
import { ProgressBar } from './progress-bar.ts';

/** The longest clip the API takes: a caption given without a duration lasts the whole clip. */
const MAX_DURATION_S = 60;

interface AnimateOptions {
  prompt?: string;
  preset?: string;
  motion?: string;
  aspect?: string;
  resolution?: string;
  platform?: string;
  duration?: number;
  text?: string;
  audio?: string;
  logo?: string;
  /** -o: where the (first) video goes */
  out?: string;
  /** --output, repeatable: the renditions */
  output: OutputOption[];
  /** false with --no-cache */
  cache: boolean;
  template?: string;
  merge: Record<string, string>;
}

/** `--merge key=value`, repeatable: the placeholders' values of --template. */
function mergePair(value: string, merged: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('key=value, such as title="Oak chair"');
  return { ...merged, [value.slice(0, at)]: value.slice(at + 1) };
}

const member = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);

/**
 * `--output 9:16:1080p:mp4`, repeatable: one rendition each. Any part may be
 * left out (`1:1:gif`, `webm`); the job's own size fills what is unset.
 */
function outputRendition(value: string, renditions: OutputOption[] = []): OutputOption[] {
  const rendition: OutputOption = {};
  const parts = value.split(':');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const aspect = `${part}:${parts[i + 1] ?? ''}`;
    if (member(ASPECT_RATIOS, aspect)) {
      rendition.aspect_ratio = aspect;
      i++;
    } else if (member(RESOLUTIONS, part)) rendition.resolution = part;
    else if (member(OUTPUT_FORMATS, part)) rendition.format = part;
    else throw new InvalidArgumentError(`aspect:resolution:format, such as 9:16:1080p:mp4 or 1:1:gif (aspect ${ASPECT_RATIOS.join('|')}, resolution ${RESOLUTIONS.join('|')}, format ${OUTPUT_FORMATS.join('|')})`);
  }
  return [...renditions, rendition];
}

/** Where rendition n goes: the first at `-o` (or <job id>.<ext>), the others beside it as <name>-<n>.<ext>. */
function renditionTarget(first: string, n: number, format: string): string {
  const ext = format === 'mp4-hevc' ? 'mp4' : format;
  const parsed = path.parse(first);
  return n === 0 ? first : path.join(parsed.dir, `${parsed.name}-${n}.${ext}`);
}

const isUrl = (source: string) => /^https?:\/\//i.test(source);

function seconds(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('a number of seconds, such as 5 or 2.5');
  return number;
}

async function checkFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new Error(`${file}: no such file (give a local file or an http(s) URL)`);
}

/**
 * Local files go up first, in one multipart request to /v1/uploads; the job
 * then names every input, uploaded or by URL, in the order given.
 */
async function resolveSources(client: ApiClient, sources: string[]): Promise<string[]> {
  const files = sources.filter((source) => !isUrl(source));
  await Promise.all(files.map(checkFile));
  const uploads = files.length > 0 ? await client.uploadFiles(files) : [];
  let next = 0;
  return sources.map((source) => (isUrl(source) ? source : `upload:${uploads[next++]!.id}`));
}

/** The job's inputs as the API names them: the images, then the music and the logo when given. */
interface JobSources {
  images: string[];
  audio?: string;
  logo?: string;
}

async function jobSources(client: ApiClient, images: string[], options: AnimateOptions): Promise<JobSources> {
  const extras = (['audio', 'logo'] as const).filter((name) => options[name] !== undefined);
  const resolved = await resolveSources(client, [...images, ...extras.map((name) => options[name]!)]);
  const named = Object.fromEntries(extras.map((name, i) => [name, resolved[images.length + i]]));
  return { images: resolved.slice(0, images.length), ...named };
}

function jobRequest({ images, audio, logo }: JobSources, options: AnimateOptions): CreateJobRequest {
  const jobOptions: Record<string, unknown> = {
    ...(options.duration !== undefined && { duration_s: options.duration }),
    ...(options.aspect && { aspect_ratio: options.aspect }),
    ...(options.resolution && { resolution: options.resolution }),
    ...(options.platform && { platform: options.platform }),
    ...(options.motion && { motion: options.motion }),
    ...(options.text && { text: [{ text: options.text, start_s: 0, end_s: options.duration ?? MAX_DURATION_S }] }),
    ...(audio && { audio: { url: audio } }),
    ...(!options.cache && { cache: false }),
    ...(logo && { logo: { url: logo } }),
    ...(options.output.length > 0 && { outputs: options.output }),
  };
  return {
    images,
    ...(options.prompt && { prompt: options.prompt }),
    ...(options.preset && { preset: options.preset }),
    options: jobOptions,
  };
}

async function animate(client: ApiClient, images: string[], options: AnimateOptions): Promise<void> {
  if (options.template && images.length > 0) throw new Error('give pictures or --template, not both (the template names its pictures; pass their URLs with --merge)');
  if (!options.template && images.length === 0) throw new Error('give at least one picture, or --template <id> with --merge key=value');
  let job = await client.createJob(
    options.template ? { template_id: options.template, merge: options.merge } : jobRequest(await jobSources(client, images, options), options),
  );
  out.error(`submitted ${job.id} to ${client.url}`);

  const bar = new ProgressBar(process.stderr);
  const stopFollowing = () => {
    bar.finish();
    out.error(`stopped following ${job.id}; it keeps running (i2v status ${job.id}, i2v cancel ${job.id})`);
    process.exit(130);
  };
  process.once('SIGINT', stopFollowing);
  try {
    job = await followJob(client, job.id, (snapshot) => bar.update(snapshot));
  } finally {
    bar.finish();
    process.removeListener('SIGINT', stopFollowing);
  }

  if (job.status !== 'succeeded' || !job.result) {
    const reason = job.error ? `: ${job.error.code}: ${job.error.message}` : '';
    throw new Error(`job ${job.id} ${job.status}${reason}`);
  }
  const outputs = job.result.outputs ?? [];
  const first = path.resolve(options.out ?? `${job.id}.${outputs[0]?.format === 'gif' || outputs[0]?.format === 'webm' ? outputs[0].format : 'mp4'}`);
  out.error(`video: ${describeResult(job.result)}`);
  if (outputs.length <= 1) {
    await client.downloadVideo(job.id, first);
    out.line(first);
    return;
  }
  for (const [n, output] of outputs.entries()) {
    const target = renditionTarget(first, n, output.format);
    await client.downloadVideo(job.id, target, n);
    out.line(target);
  }
}

export function animateCommand(): Command {
  return new Command('animate')
    .description('animate photos through a running API (I2V_URL, I2V_API_KEY), follow the job, download the MP4')
    .argument('[images...]', 'pictures (or short clips), local files or http(s) URLs, in timeline order (none with --template)')
    .option('-p, --prompt <text>', 'what the clip should look like, in plain words')
    .addOption(new Option('--preset <preset>', 'the kind of job').choices(PRESETS))
    .addOption(new Option('--motion <motion>', 'the camera move').choices(MOTIONS))
    .addOption(new Option('--aspect <ratio>', 'the aspect ratio').choices(ASPECT_RATIOS))
    .addOption(new Option('--resolution <size>', 'the frame size').choices(RESOLUTIONS))
    .addOption(new Option('--platform <name>', "a platform preset: its size, frame rate, duration range and encoding rules (docs/platforms.md)").choices(PLATFORMS))
    .option('--duration <seconds>', 'the clip length (1–60)', seconds)
    .option('--text <caption>', 'a caption shown for the whole clip')
    .option('--audio <file|url>', 'background music (mp3, wav, m4a, aac), looped or trimmed to the clip')
    .option('--logo <file|url>', 'a logo (a still image, PNG with transparency works best) in the top-right corner')
    .option('-o, --out <file>', 'where to write the video (default: <job id>.mp4); with several --output, the others go beside it as <name>-<n>.<ext>')
    .option('--output <aspect:resolution:format>', `a rendition, e.g. 9:16:1080p:mp4 or 1:1:gif (repeat for each, up to 6; formats ${OUTPUT_FORMATS.join(', ')})`, outputRendition, [])
    .option('--no-cache', 'render even if the same photos and options were rendered before (the render cache)')
    .option('--template <id>', 'make the job from a saved template (POST /v1/templates) instead of pictures and options')
    .option('--merge <key=value>', "a value for one of the template's placeholders (repeat for each)", mergePair, {})
    .action(clientAction((client, images: string[], options: AnimateOptions) => animate(client, images, options)));
}
