// What the SDK programs share (tests/clients/adapters.py runs them): the job from the command
// line, the shell tool the scripted model asks for, and one JSON line per case on stdout.
import { execFileSync } from 'node:child_process';

export const job = JSON.parse(process.argv[2]);

export const SHELL_TOOL = {
  name: 'shell',
  description: 'Run a shell command and return what it prints.',
  parameters: {
    type: 'object',
    properties: { command: { type: 'string', description: 'The command line' } },
    required: ['command'],
  },
};

export function shell(command) {
  return execFileSync('bash', ['-c', command], { encoding: 'utf8', timeout: 10000 });
}

// The status and body of a failed call, wherever this client's error keeps them.
function describe(error) {
  const cause = error?.lastError ?? error; // the AI SDK's RetryError wraps the last attempt's
  const parts = [String(cause?.message ?? cause)];
  for (const field of ['statusCode', 'status_code', 'responseBody', 'url']) {
    if (cause?.[field] !== undefined) parts.push(`${field}: ${cause[field]}`);
  }
  return parts.join(' | ');
}

// Runs each case with its scenario's function, which gives { text, usage: [input, output] }.
export async function runCases(scenarios) {
  for (const c of job.cases) {
    let line;
    try {
      const { text, usage } = await scenarios[c.scenario](c);
      line = { id: c.id, text, usage };
    } catch (error) {
      line = { id: c.id, error: describe(error) };
    }
    console.log(JSON.stringify(line));
  }
}
