/**
 * How ffmpeg and ffprobe open what they read: a local file through the
 * `file` protocol alone, so a file whose content is a playlist, a concat
 * list or any format that names other resources cannot make them reach the
 * network (http, rtmp…), a pipe, or another protocol.
 */
export function localFileInput(path: string): string[] {
  return ['-protocol_whitelist', 'file', '-i', `file:${path}`];
}

/** A pipe this process writes into (fd 3 and up), and nothing else. */
export function pipeInput(fd: number): string[] {
  return ['-protocol_whitelist', 'pipe', '-i', `pipe:${fd}`];
}

/** ffprobe's input: the same rule, for a program that takes its input last. */
export function probeInput(path: string): string[] {
  return ['-protocol_whitelist', 'file', `file:${path}`];
}
