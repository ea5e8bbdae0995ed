// Seeded chat conversations rendered by the models' own Jinja templates with @huggingface/jinja: the expected
// output of seek's C++ chat templates (strings, and ids through the oracle tokenizers).
import fs from 'node:fs';
import path from 'node:path';
import { Template } from '@huggingface/jinja';
import { rng } from './corpus.mjs';

const BOS = '<｜begin▁of▁sentence｜>';

// name -> template text, from shared/data/chat-templates.
export function chatTemplates(dataDir) {
  const dir = path.join(dataDir, 'chat-templates');
  const files = { 'deepseek-v3': 'deepseek-v3-from-lenml-tokenizer_config.jinja',
    'deepseek-r1': 'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja' };
  const out = {};
  for (const [name, f] of Object.entries(files)) {
    const p = path.join(dir, f);
    if (fs.existsSync(p)) out[name] = fs.readFileSync(p, 'utf8');
  }
  return out;
}

export function conversations(seed, count, corpus) {
  const r = rng(seed);
  const text = () => {
    const s = r.int(3) === 0 ? r.pick(corpus) : r.pick(['Hello', 'What is 1+1?', 'Write a haiku about rust.',
      '你好，请介绍一下你自己。', 'Explain <think> tags', 'multi\nline\n\ninput', '  padded  ', '', 'Résumé naïve café']);
    return s.length > 400 ? s.slice(0, 400) : s;
  };
  const call = () => ({ type: 'function', function: { name: r.pick(['get_weather', 'search', 'run_code']),
    arguments: JSON.stringify({ q: text().slice(0, 40), n: r.int(100) }) } });
  const convs = [];
  for (let i = 0; i < count; i++) {
    const messages = [];
    const systems = r.int(4) === 0 ? 2 : r.int(2);
    for (let k = 0; k < systems; k++) messages.push({ role: 'system', content: text() });
    for (let turns = r.range(1, 5); turns > 0; turns--) {
      messages.push({ role: 'user', content: text() });
      const kind = r.int(6);
      if (kind === 0) {  // tool calls, their outputs, then an answer
        messages.push({ role: 'assistant', content: null, tool_calls: Array.from({ length: r.range(1, 3) }, call) });
        for (let t = r.range(1, 3); t > 0; t--) messages.push({ role: 'tool', content: text() });
        if (r.int(2)) messages.push({ role: 'assistant', content: text() });
      } else if (kind === 1) {  // an answer with its reasoning inline
        messages.push({ role: 'assistant', content: `<think>\n${text()}\n</think>\n\n${text()}` });
      } else if (turns > 1 || r.int(2)) {
        messages.push({ role: 'assistant', content: text() });
      }
    }
    if (r.int(3) === 0 && messages[messages.length - 1].role === 'assistant') messages.pop();
    convs.push({ messages, add_generation_prompt: r.int(4) !== 0 });
  }
  return convs;
}

// [{template, messages, add_generation_prompt, rendered, ids: {variant: [...]}}]
export function chatCases({ dataDir, seed, count, corpus, tokenizers }) {
  const templates = chatTemplates(dataDir);
  const useWith = { 'deepseek-v3': ['deepseek-v3'], 'deepseek-r1': ['deepseek-r1', 'r1-distill-qwen', 'r1-distill-llama'] };
  const cases = [];
  for (const conv of conversations(seed, count, corpus)) {
    for (const [name, text] of Object.entries(templates)) {
      const rendered = new Template(text).render({ messages: conv.messages, bos_token: BOS,
        add_generation_prompt: conv.add_generation_prompt });
      const ids = {};
      for (const v of useWith[name]) {
        if (tokenizers[v]) ids[v] = tokenizers[v].encode(rendered, { add_special_tokens: false });
      }
      cases.push({ template: name, ...conv, rendered, ids });
    }
  }
  return { templates, cases };
}
