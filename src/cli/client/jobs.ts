import { Command, InvalidArgumentError, Option } from 'commander';
import { JOB_STATUSES, type JobStatus } from '../../shared/jobs/job-record.ts';
import { out } from '../output.ts';
import { clientAction } from './command-runner.ts';
import { jobTable } from './job-format.ts';

function count(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > 100) throw new InvalidArgumentError('a whole number from 1 to 100');
  return number;
}

export function jobsCommand(): Command {
  return new Command('jobs')
    .description('list your recent jobs, newest first')
    .addOption(new Option('--status <status>', 'only jobs with this status').choices(JOB_STATUSES))
    .option('-n, --limit <count>', 'how many (1–100)', count, 20)
    .option('--json', 'print the API reply as JSON')
    .action(
      clientAction(async (client, options: { status?: JobStatus; limit: number; json?: boolean }) => {
        const list = await client.listJobs({ limit: options.limit, status: options.status });
        if (options.json) return out.line(JSON.stringify(list, null, 2));
        if (list.data.length === 0) return out.line('no jobs yet');
        for (const line of jobTable(list.data)) out.line(line);
      }),
    );
}
