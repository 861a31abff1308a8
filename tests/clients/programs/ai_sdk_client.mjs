// The Vercel AI SDK against the gateway: @ai-sdk/openai's Chat and Responses models and
// @ai-sdk/anthropic, each generating, streaming, and running a tool loop (tests/clients).
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { job, runCases, shell, SHELL_TOOL } from './common.mjs';

function model(c) {
  const settings = { baseURL: `${job.gateway}/v1`, apiKey: 'switchboard', headers: { [job.header]: c.id } };
  if (c.api === 'anthropic') return createAnthropic(settings)(c.model);
  const openai = createOpenAI(settings);
  return c.api === 'chat' ? openai.chat(c.model) : openai.responses(c.model);
}

const tools = {
  [SHELL_TOOL.name]: tool({
    description: SHELL_TOOL.description,
    inputSchema: jsonSchema(SHELL_TOOL.parameters),
    execute: async ({ command }) => shell(command),
  }),
};
const counted = (usage) => [usage.inputTokens, usage.outputTokens];

await runCases({
  async generate(c) {
    const result = await generateText({ model: model(c), prompt: job.plain, maxRetries: 0 });
    return { text: result.text, usage: counted(result.totalUsage) };
  },
  async stream(c) {
    let failure;
    const result = streamText({ model: model(c), prompt: job.plain, maxRetries: 0, onError: ({ error }) => { failure = error; } });
    let text = '';
    for await (const piece of result.textStream) text += piece;
    if (failure) throw failure; // a stream reports its failure here, not by throwing
    return { text, usage: counted(await result.totalUsage) };
  },
  async tools(c) {
    const result = await generateText({ model: model(c), prompt: job.shell, tools, stopWhen: stepCountIs(4), maxRetries: 0 });
    return { text: result.text, usage: counted(result.totalUsage) };
  },
});
