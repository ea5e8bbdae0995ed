// seek serve against the official `openai` npm client: models, chat (non-stream and stream, usage, logprobs, stop,
// seed, json_object), completions (non-stream and stream, echo, logprobs), DeepSeek's base path, and the errors
// the client turns into typed exceptions (400, 401, 404, context overflow). Usage:
//   node openai_test.mjs --url http://127.0.0.1:PORT --key KEY
// Prints "ok NAME" / "FAIL NAME" lines and exits non-zero on any failure.
import OpenAI from "openai";

const arg = (name) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const url = arg("--url");
const key = arg("--key");
let failed = 0, passed = 0;
const check = (ok, name, detail = "") => {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
};
async function expectError(name, fn, status, cls, needle) {
  try {
    await fn();
    check(false, name, "no error");
  } catch (e) {
    const ok = e instanceof cls && e.status === status && (!needle || String(e.message).includes(needle)) &&
               e.error && typeof e.error.message === "string";
    check(ok, name, `${e.constructor.name} ${e.status} ${e.message}`);
  }
}

const client = new OpenAI({ baseURL: url + "/v1", apiKey: key, maxRetries: 0, timeout: 60000 });
const deepseek = new OpenAI({ baseURL: url, apiKey: key, maxRetries: 0, timeout: 60000 });  // DeepSeek's paths
const messages = [{ role: "system", content: "You are brief." }, { role: "user", content: "Hello there" }];

const models = await client.models.list();
const model = models.data[0]?.id;
check(typeof model === "string" && models.data[0].object === "model", "models.list");
const one = await client.models.retrieve(model);
check(one.id === model, "models.retrieve");

const chat = await client.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0 });
const text = chat.choices[0].message.content;
check(chat.object === "chat.completion" && typeof text === "string" && chat.choices[0].finish_reason === "length",
      "chat non-stream", JSON.stringify(chat.choices[0]));
check(chat.usage.completion_tokens === 16 && chat.usage.total_tokens === chat.usage.prompt_tokens + 16 &&
      chat.usage.prompt_cache_hit_tokens + chat.usage.prompt_cache_miss_tokens === chat.usage.prompt_tokens &&
      chat.usage.completion_tokens_details.reasoning_tokens === 0, "chat usage (DeepSeek fields)", JSON.stringify(chat.usage));

const stream = await client.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0, stream: true,
                                                      stream_options: { include_usage: true } });
let streamed = "", finish = null, usage = null, chunks = 0;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  const c = chunk.choices[0];
  if (!c) continue;
  streamed += c.delta.content ?? "";
  if (c.finish_reason) finish = c.finish_reason;
}
check(streamed === text && finish === "length", "chat stream equals non-stream", `${JSON.stringify(streamed)} vs ${JSON.stringify(text)}`);
check(usage && usage.completion_tokens === 16 && usage.prompt_cache_hit_tokens > 0, "stream usage with prefix reuse",
      JSON.stringify(usage));

const ds = await deepseek.chat.completions.create({ model: "deepseek-chat", messages, max_tokens: 16, temperature: 0 });
check(ds.choices[0].message.content === text, "DeepSeek base path /chat/completions");

// The helper that collects a stream into a final message.
const runner = client.chat.completions.stream({ model, messages, max_tokens: 16, temperature: 0 });
const final = await runner.finalChatCompletion();
check(final.choices[0].message.content === text, "chat.completions.stream helper");

const lp = await client.chat.completions.create({ model, messages, max_tokens: 6, temperature: 0, logprobs: true,
                                                  top_logprobs: 3 });
const content = lp.choices[0].logprobs?.content ?? [];
check(content.length === 6 && content.every((t) => t.logprob <= 0 && t.top_logprobs.length === 3 &&
      t.top_logprobs[0].logprob >= t.top_logprobs[2].logprob && Array.isArray(t.bytes)), "chat logprobs",
      JSON.stringify(content[0]));

if (text.length > 6) {
  const stop = text.slice(3, 5);
  const cut = await client.chat.completions.create({ model, messages, max_tokens: 16, temperature: 0, stop: [stop] });
  check(cut.choices[0].message.content === text.slice(0, text.indexOf(stop)) && cut.choices[0].finish_reason === "stop",
        "stop sequence", JSON.stringify(cut.choices[0]));
}

const seeded = async () => (await client.chat.completions.create({ model, messages, max_tokens: 12, temperature: 1,
                                                                   seed: 1234 })).choices[0].message.content;
const s1 = await seeded(), s2 = await seeded();
check(s1 === s2, "seed reproduces a sampled reply", `${JSON.stringify(s1)} vs ${JSON.stringify(s2)}`);

const js = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Reply in JSON." }],
                                                  max_tokens: 40, temperature: 0.8, seed: 7,
                                                  response_format: { type: "json_object" } });
const jtext = js.choices[0].message.content;
let jsonOk = jtext.trimStart().startsWith("{");
if (js.choices[0].finish_reason === "stop") { try { jsonOk = typeof JSON.parse(jtext) === "object"; } catch { jsonOk = false; } }
check(jsonOk, "response_format json_object", `${js.choices[0].finish_reason} ${JSON.stringify(jtext)}`);

const comp = await client.completions.create({ model, prompt: "The engine reads", max_tokens: 10, temperature: 0,
                                               logprobs: 2, echo: true });
check(comp.object === "text_completion" && comp.choices[0].text.startsWith("The engine reads") &&
      comp.choices[0].logprobs.tokens.length === 10 && comp.usage.completion_tokens === 10, "completions (echo, logprobs)",
      JSON.stringify(comp.choices[0]).slice(0, 200));
const cstream = await client.completions.create({ model, prompt: "The engine reads", max_tokens: 10, temperature: 0,
                                                  stream: true });
let ctext = "";
for await (const chunk of cstream) ctext += chunk.choices[0]?.text ?? "";
check("The engine reads" + ctext === comp.choices[0].text, "completions stream", JSON.stringify(ctext));
const ids = await client.completions.create({ model, prompt: [0, 74, 103, 110], max_tokens: 3, temperature: 0 });
check(ids.usage.prompt_tokens === 4, "completions with token ids");

await expectError("400 for a bad temperature", () => client.chat.completions.create({ model, messages, temperature: 5 }),
                  400, OpenAI.BadRequestError, "temperature");
await expectError("400 for context overflow", () => client.chat.completions.create({ model, messages, max_tokens: 100000 }),
                  400, OpenAI.BadRequestError, "maximum context length");
await expectError("400 for empty messages", () => client.chat.completions.create({ model, messages: [] }),
                  400, OpenAI.BadRequestError, "messages");
await expectError("404 for an unknown model id", () => client.models.retrieve("no-such-model"), 404, OpenAI.NotFoundError);
const bad = new OpenAI({ baseURL: url + "/v1", apiKey: "wrong-key", maxRetries: 0 });
await expectError("401 for a wrong API key", () => bad.chat.completions.create({ model, messages }), 401,
                  OpenAI.AuthenticationError);

// Aborting a stream mid-way: the client stops cleanly (the server side is checked in server_http_test.py).
const ac = new AbortController();
const long = await client.chat.completions.create({ model, messages, max_tokens: 500, stream: true, ignore_eos: true },
                                                  { signal: ac.signal });
let got = 0;
try {
  for await (const chunk of long) { if (++got === 1) ac.abort(); }
  check(got < 5, "abort a stream", `${got} chunks after the abort`);  // this client version ends the loop quietly
} catch (e) {
  check(e instanceof OpenAI.APIUserAbortError || e.name === "AbortError", "abort a stream", String(e));
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
