import { Command } from 'commander';
import { out } from '../output.ts';
import { clientAction } from './command-runner.ts';

export function cancelCommand(): Command {
  return new Command('cancel')
    .description('cancel a queued or running job')
    .argument('<id>', 'the job id (job_…)')
    .action(
      clientAction(async (client, id: string) => {
        const job = await client.cancelJob(id);
        out.line(`${job.id} ${job.status}`);
      }),
    );
}
