// The ollama package for JavaScript against the gateway: generate, a streamed chat, and a chat
// tool loop (tests/clients).
import { Ollama } from 'ollama';
import { job, runCases, shell, SHELL_TOOL } from './common.mjs';

const client = (c) => new Ollama({ host: job.gateway, headers: { [job.header]: c.id } });
const counted = (answer) => [answer.prompt_eval_count, answer.eval_count];

await runCases({
  async generate(c) {
    const answer = await client(c).generate({ model: c.model, prompt: job.plain });
    return { text: answer.response, usage: counted(answer) };
  },
  async stream(c) {
    let text = '';
    let usage = null;
    const parts = await client(c).chat({ model: c.model, messages: [{ role: 'user', content: job.plain }], stream: true });
    for await (const part of parts) {
      text += part.message.content;
      if (part.done) usage = counted(part);
    }
    return { text, usage };
  },
  async tools(c) {
    const messages = [{ role: 'user', content: job.shell }];
    const usage = [0, 0];
    for (let round = 0; round < 4; round++) {
      const answer = await client(c).chat({ model: c.model, messages, tools: [{ type: 'function', function: SHELL_TOOL }] });
      counted(answer).forEach((n, i) => { usage[i] += n; });
      messages.push(answer.message);
      if (!answer.message.tool_calls?.length) return { text: answer.message.content, usage };
      for (const call of answer.message.tool_calls) {
        messages.push({ role: 'tool', tool_name: call.function.name, content: shell(call.function.arguments.command) });
      }
    }
    throw new Error('no final answer after 4 rounds');
  },
});
