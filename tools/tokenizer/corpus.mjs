// Seeded generator of tokenizer test strings: many scripts, code, numbers, whitespace runs, emoji sequences,
// combining marks, special-token texts inside ordinary text, very long words. Same seed => same strings.
import fs from 'node:fs';
import path from 'node:path';

// mulberry32: small, fast, good enough for test data.
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (arr) => arr[int(arr.length)];
  const range = (lo, hi) => lo + int(hi - lo + 1);
  return { next, int, pick, range };
}

const cp = (n) => String.fromCodePoint(n);

const ENGLISH = ['the quick brown fox jumps over the lazy dog', "I've got it, don't worry", "she'll say it's John's",
  'HELLO WORLD', "WE'LL SEE WHAT THEY'RE DOING", 'Tokenization is the first step of every language model.',
  'A man, a plan, a canal: Panama!', 'e-mail: someone@example.com', 'https://example.org/path?q=1&r=two#frag'];
const FRENCH = ["L'été dernier, nous sommes allés à la mer.", 'Où est la bibliothèque ? Ça dépend.',
  "Qu'est-ce que c'est ? « Bonjour », dit-il.", 'Noël, garçon, œuvre, naïve, façade, déjà vu', 'ÉCOLE ÉLÉMENTAIRE'];
const GERMAN = ['Größe, Straße, Übermäßig, Äpfel', 'Donaudampfschifffahrtsgesellschaftskapitän'];
const CHINESE = ['我们今天去公园散步。', '人工智能正在改变世界，深度学习是其中的关键技术。', '你好，世界！这是一个测试。',
  '中华人民共和国成立于1949年10月1日。', '「引号」和《书名号》以及——破折号……省略号', '龘靐齉爩鱻麤龖龗'];
const JAPANESE = ['こんにちは、世界！', '東京は日本の首都です。', 'カタカナとひらがなと漢字を混ぜた文章。',
  'ｶﾀｶﾅ（半角）と全角ＡＢＣ１２３', 'ポケットモンスター・ゲットだぜ〜', 'が ぎ ぐ げ ご ぱ ぴ ぷ ゔ ゟ ヿ ー'];
const KOREAN = ['안녕하세요, 세계!', '한국어 문장을 토큰화합니다.', '대한민국의 수도는 서울입니다.'];
const ARABIC = ['مرحبا بالعالم', 'اللغة العربية جميلة جداً.', 'السَّلَامُ عَلَيْكُمْ', 'عدد ١٢٣٤٥٦٧٨٩٠ بالأرقام الهندية'];
const RUSSIAN = ['Привет, мир!', 'Съешь же ещё этих мягких французских булок, да выпей чаю.', 'ЁЛКА И ЕЖ', 'Война и мир'];
const OTHER = ['नमस्ते दुनिया', 'हिन्दी में लिखा गया वाक्य।', 'สวัสดีชาวโลก', 'Γειά σου Κόσμε', 'שלום עולם', 'Xin chào thế giới',
  'Tiếng Việt có dấu: ăâêôơư', 'ሰላም ዓለም', 'გამარჯობა', 'Բարեւ աշխարհ', 'ᚠᚢᚦᚨᚱᚲ', 'Ελληνικά ΑΒΓΔ', 'ꦲꦏ꧀ꦱꦫ'];
const CODE = [
  'def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n',
  '#include <stdio.h>\nint main(void) {\n\tprintf("%d\\n", 42);\n\treturn 0;\n}\n',
  'const add = (a, b) => a + b;\nconsole.log(add(1, 2)); // 3\n',
  'fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * x).collect();\n    println!("{:?}", v);\n}\n',
  'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println("hi")\n}\n',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC LIMIT 10;',
  '<div class="box" id=\'main\'><p>Hello &amp; welcome</p></div>',
  '{"key": [1, 2.5, -3e10, true, null], "nested": {"a": "b"}}',
  'for i in $(seq 1 10); do echo "$i" | grep -q 5 && break; done',
  'template <typename T>\nstd::vector<T> f(const std::map<int, T>& m) { return {}; }\n',
  'x += y ** 2 // 3; a[i:j] != b[::-1]; s = f"{x!r:>10}"',
  '    \t  if (a&&b||!c) { return a<<2 >>> 1; }\r\n',
  'public static void main(String[] args) throws IOException {}',
  '\\begin{equation} E = mc^2 \\end{equation}', '=> -> <- <=> ::= ... !== === ?? ?. @@',
];
const EMOJI = ['😀', '👍', '👍🏽', '👩‍💻', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇫🇷🇯🇵', '❤️', '1️⃣', '🧑🏿‍🚀', '🤷‍♀️', '👋🏻👋🏼👋🏾👋🏿', '🫠', '☃', '✔️', '🔥🔥🔥'];
const SPECIAL = ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜User｜>', '<｜Assistant｜>', '<think>', '</think>',
  '<｜tool▁calls▁begin｜>', '<｜tool▁call▁begin｜>', '<｜tool▁sep｜>', '<｜tool▁call▁end｜>', '<｜tool▁outputs▁begin｜>',
  '<｜fim▁hole｜>', '<｜fim▁begin｜>', '<｜▁pad▁｜>', '<|EOT|>', '<|im_start|>', '<|im_end|>', '<|endoftext|>',
  '<|begin_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|reserved_special_token_5|>', '<tool_call>',
  '<|fim_prefix|>', '<｜place▁holder▁no▁17｜>', '<｜User', '｜>', '<|im_', '<<｜User｜>>', '<think></think>'];
const WHITESPACE = [' ', '  ', '   ', '\t', '\t\t', '\n', '\n\n', '\r\n', '\r', ' \n', '\n ', ' \t ', '\u00a0', '\u3000',
  '\u2003', '\u2028', '\u2029', '\u000b', '\u000c', '\u200b', '\u1680', '\u202f', '\u205f', '\ufeff', '\u0085'];
const PUNCT = ['.', ',', '!', '?', '...', '—', '–', '«', '»', '“', '”', '‘', '’', '¿', '¡', '(', ')', '[', ']', '{', '}',
  '%', '$', '€', '£', '¥', '₹', '§', '©', '®', '™', '°', '±', '×', '÷', '∑', '∫', '≤', '≠', '→', '⇒', '★', '♪', '、', '。',
  '，', '！', '？', '：', '；', '＠', '＃', '“”', '#', '&', '*', '+', '-', '/', ':', ';', '<', '=', '>', '@', '\\', '^',
  '_', '`', '|', '~', "'", '"', "'s", "'S", "'ll", "'LL", "'Re", "'ve", "'d", "'M", "'t", "'ſ", "'x"];
const MARKS = [0x300, 0x301, 0x302, 0x303, 0x304, 0x306, 0x307, 0x308, 0x30a, 0x30b, 0x30c, 0x323, 0x327, 0x328, 0x331,
  0x345, 0x35c, 0x361, 0x20d7, 0x1dc0, 0x5b0, 0x5b4, 0x64b, 0x650, 0x651, 0x93c, 0x94d, 0xe48, 0x3099, 0x309a, 0xfe0f, 0x200d];
// Blocks assigned long ago, for random characters whose categories are the same in every recent Unicode version.
const BLOCKS = [[0x20, 0x7e], [0xa0, 0x24f], [0x250, 0x2af], [0x370, 0x3ff], [0x400, 0x4ff], [0x591, 0x5f4],
  [0x600, 0x6ff], [0x900, 0x97f], [0xe01, 0xe5b], [0x10a0, 0x10ff], [0x1100, 0x11ff], [0x1e00, 0x1fff], [0x2000, 0x206f],
  [0x2070, 0x209c], [0x20a0, 0x20bf], [0x2100, 0x218b], [0x2190, 0x23ff], [0x2460, 0x24ff], [0x2500, 0x27bf],
  [0x3000, 0x303f], [0x3041, 0x30ff], [0x3131, 0x318e], [0x4e00, 0x9fa5], [0xac00, 0xd7a3], [0xf900, 0xfa2d],
  [0xfe30, 0xfe4f], [0xff01, 0xffef], [0x1d400, 0x1d7ff], [0x1f300, 0x1f5ff], [0x1f600, 0x1f64f], [0x20000, 0x2a6d6]];

// Slices of the public-domain corpora in shared/data, when present.
function loadProse(dataDir) {
  const files = ['war-and-peace.txt', 'jargon-file-4.4.7.txt', 'devils-dictionary.dict.txt'];
  const texts = [];
  for (const f of files) {
    const p = path.join(dataDir, 'corpora', f);
    if (fs.existsSync(p)) texts.push(fs.readFileSync(p, 'utf8'));
  }
  return texts;
}

function makeGenerators(r, prose) {
  const randomChar = () => { const [lo, hi] = r.pick(BLOCKS); return cp(r.range(lo, hi)); };
  const digits = (n) => Array.from({ length: n }, () => r.int(10)).join('');
  const g = {
    english: () => r.pick(ENGLISH),
    prose: () => {
      if (!prose.length) return r.pick(ENGLISH);
      const t = r.pick(prose);
      const at = r.int(Math.max(1, t.length - 600));
      return t.slice(at, at + r.range(20, 600));
    },
    french: () => r.pick(FRENCH) + (r.int(3) === 0 ? ' ' + r.pick(GERMAN) : ''),
    chinese: () => r.pick(CHINESE),
    japanese: () => r.pick(JAPANESE),
    korean: () => r.pick(KOREAN),
    arabic: () => r.pick(ARABIC),
    russian: () => r.pick(RUSSIAN),
    other: () => r.pick(OTHER),
    code: () => r.pick(CODE),
    number: () => {
      const n = r.range(1, 40);
      switch (r.int(9)) {
        case 0: return digits(n);
        case 1: return '-' + digits(r.range(1, 6)) + '.' + digits(r.range(1, 8));
        case 2: return digits(r.range(1, 3)) + ',' + digits(3) + ',' + digits(3);
        case 3: return Array.from(digits(r.range(1, 12)), (d) => cp(0xff10 + +d)).join('');  // fullwidth
        case 4: return Array.from(digits(r.range(1, 12)), (d) => cp(0x660 + +d)).join('');   // Arabic-Indic
        case 5: return r.pick(['½', '²', '³', '⅔', 'Ⅻ', 'ⅷ', '①②③', '〇', '𝟙𝟚𝟛', '٣', '१२३', '๒๕']);
        case 6: return digits(r.range(1, 4)) + r.pick(['st', 'nd', 'rd', 'th', 'px', 'kg', '%', 'e10', 'x']);
        case 7: return '0x' + Array.from({ length: r.range(1, 16) }, () => '0123456789abcdefABCDEF'[r.int(22)]).join('');
        default: return digits(n) + ' ' + digits(r.range(1, 40));
      }
    },
    whitespace: () => Array.from({ length: r.range(1, 6) }, () => r.pick(WHITESPACE)).join(''),
    emoji: () => Array.from({ length: r.range(1, 4) }, () => r.pick(EMOJI)).join(r.int(2) ? '' : ' '),
    marks: () => {
      const base = r.pick(['a', 'e', 'o', 'u', 'n', 'c', 'A', 'E', 'ε', 'и', 'ا', 'क', 'か', 'x', ' ', '1', '']);
      return base + Array.from({ length: r.range(1, 4) }, () => cp(r.pick(MARKS))).join('');
    },
    decomposed: () => r.pick([...FRENCH, ...GERMAN, ...KOREAN, 'ǖǘǚǜ', 'ḕḗ', 'Å Ω K', 'ﬁ ﬀ'])
      .normalize(r.int(2) ? 'NFD' : 'NFKD'),
    jamo: () => Array.from({ length: r.range(1, 6) }, () =>
      cp(r.range(0x1100, 0x1112)) + cp(r.range(0x1161, 0x1175)) + (r.int(2) ? cp(r.range(0x11a8, 0x11c2)) : '')).join(''),
    special: () => r.pick(SPECIAL),
    punct: () => Array.from({ length: r.range(1, 5) }, () => r.pick(PUNCT)).join(r.int(3) ? '' : ' '),
    random: () => Array.from({ length: r.range(1, 12) }, randomChar).join(''),
    longWord: () => {
      const n = r.range(100, r.int(10) === 0 ? 6000 : 800);
      switch (r.int(6)) {
        case 0: return Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz'[r.int(26)]).join('');
        case 1: return digits(n);
        case 2: return 'a'.repeat(n);
        case 3: return Array.from({ length: n >> 2 }, () => cp(r.range(0x4e00, 0x9fa5))).join('');
        case 4: return Array.from({ length: n }, () => r.pick(['-', '=', '*', '#', '.', '!'])).join('');
        default: return Buffer.from(Array.from({ length: n }, () => r.int(256))).toString('base64');
      }
    },
  };
  return g;
}

// `count` strings; each joins 1..8 fragments of random kinds with random glue (nothing, spaces, newlines...).
export function generateCorpus({ seed = 20250601, count = 20000, dataDir = '' } = {}) {
  const r = rng(seed);
  const g = makeGenerators(r, dataDir ? loadProse(dataDir) : []);
  const kinds = Object.keys(g);
  const weights = { prose: 4, english: 2, code: 3, number: 3, whitespace: 3, special: 2, longWord: 0.3 };
  const bag = kinds.flatMap((k) => Array(Math.max(1, Math.round((weights[k] ?? 1) * 2))).fill(k));
  const out = ['', ' ', 'a', '\n', '  ', '\t\n', "'s", '1234567', '<｜User｜>'];  // a few fixed edge cases first
  while (out.length < count) {
    const parts = r.range(1, 8);
    let s = '';
    for (let i = 0; i < parts; i++) {
      let kind = r.pick(bag);
      if (kind === 'longWord' && r.int(4) !== 0) kind = 'english';
      s += g[kind]();
      if (i + 1 < parts) s += r.pick(['', '', ' ', ' ', '  ', '\n', '\t', ', ', '\n\n', '   \n', '\u00a0']);
    }
    out.push(s);
  }
  return out;
}
