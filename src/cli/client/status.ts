import { Command } from 'commander';
import { out } from '../output.ts';
import { clientAction } from './command-runner.ts';
import { jobDetails } from './job-format.ts';

export function statusCommand(): Command {
  return new Command('status')
    .description("a job's status, stage, progress, video or error")
    .argument('<id>', 'the job id (job_…)')
    .option('--json', 'print the job as the API returns it')
    .action(
      clientAction(async (client, id: string, options: { json?: boolean }) => {
        const job = await client.getJob(id);
        if (options.json) return out.line(JSON.stringify(job, null, 2));
        for (const line of jobDetails(job)) out.line(line);
      }),
    );
}
