// The chat loop: input, commands, a reply streamed from the engine, Ctrl-C, context fitting.
#include "server/chat_repl.h"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <random>

#include "server/conversation.h"

namespace seek::server {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void on_sigint(int) { g_interrupted.store(true); }

// Lines from a file descriptor; a read interrupted by Ctrl-C is reported as such.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  enum class Status { Line, Eof, Interrupted };
  // Everything up to end of input (what is not consumed stays readable as lines).
  const std::string& read_all() {
    char chunk[65536];
    for (ssize_t n; (n = read(fd_, chunk, sizeof chunk)) != 0;) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      buf_.append(chunk, size_t(n));
    }
    eof_ = true;
    return buf_;
  }
  Status next(std::string& line) {
    for (;;) {
      const size_t nl = buf_.find('\n');
      if (nl != std::string::npos) {
        line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return Status::Line;
      }
      // Waits in short polls so that a Ctrl-C that lands just before the wait is still seen.
      if (g_interrupted.exchange(false)) {
        buf_.clear();
        return Status::Interrupted;
      }
      if (!eof_) {
        pollfd p{fd_, POLLIN, 0};
        const int r = poll(&p, 1, 100);
        if (r == 0 || (r < 0 && errno == EINTR)) continue;
      }
      char chunk[4096];
      const ssize_t n = eof_ ? 0 : read(fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        if (buf_.empty()) return Status::Eof;
        line = std::move(buf_);
        buf_.clear();
        return Status::Line;
      }
      buf_.append(chunk, size_t(n));
    }
  }

 private:
  int fd_;
  bool eof_ = false;
  std::string buf_;
};

class Chat {
 public:
  Chat(Engine& eng, const ChatTemplate& tmpl, const ChatOptions& opt, int in_fd, std::FILE* out)
      : eng_(eng), tmpl_(tmpl), opt_(opt), in_(in_fd), out_(out), show_reasoning_(opt.show_reasoning) {}

  int run();

 private:
  void note(const std::string& s);  // feedback: dim, on its own line (interactive only)
  void dim(bool on) {
    if (opt_.color) std::fputs(on ? "\x1b[2m" : "\x1b[0m", out_);
  }
  bool read_message(std::string& text);  // false at end of input
  bool command(const std::string& line);  // false: quit
  void set_system(const std::string& text);
  void reply();
  Event stream_reply(const std::shared_ptr<Job>& job, ChatMessage& answer);
  void write_text(const std::string& s);

  Engine& eng_;
  const ChatTemplate& tmpl_;
  const ChatOptions& opt_;
  LineReader in_;
  std::FILE* out_;
  bool show_reasoning_;
  Conversation conv_;
  std::mt19937_64 rng_{std::random_device{}()};
};

void Chat::note(const std::string& s) {
  if (!opt_.interactive) return;
  dim(true);
  std::fprintf(out_, "%s", s.c_str());
  dim(false);
  std::fputc('\n', out_);
  std::fflush(out_);
}

// Model text to the terminal: control characters (escape sequences could drive the terminal) are shown as
// their Unicode pictures instead; newlines and tabs pass.
void Chat::write_text(const std::string& s) {
  if (!opt_.interactive) {
    std::fwrite(s.data(), 1, s.size(), out_);
    return;
  }
  std::string safe;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      const unsigned pic = c == 0x7f ? 0x2421 : 0x2400 + c;  // U+2400..U+241F, U+2421
      safe += char(0xE2);
      safe += char(0x80 | ((pic >> 6) & 0x3F));
      safe += char(0x80 | (pic & 0x3F));
    } else if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9F) {
      safe += "\xEF\xBF\xBD";  // a C1 control (U+0080..U+009F): U+FFFD
      ++i;
    } else {
      safe += char(c);
    }
  }
  std::fwrite(safe.data(), 1, safe.size(), out_);
}

bool Chat::read_message(std::string& text) {
  text.clear();
  bool block = false;  // inside """ ... """
  for (;;) {
    if (opt_.interactive) {
      std::fputs(text.empty() && !block ? "> " : "... ", out_);
      std::fflush(out_);
    }
    std::string line;
    const auto st = in_.next(line);
    if (st == LineReader::Status::Eof) {
      if (opt_.interactive) std::fputc('\n', out_);
      return !text.empty();
    }
    if (st == LineReader::Status::Interrupted) {
      std::fputc('\n', out_);
      note("(Ctrl-C stops a reply; /exit or Ctrl-D quits)");
      text.clear();
      block = false;
      continue;
    }
    if (line == "\"\"\"") {
      if (block) return true;
      block = true;
      continue;
    }
    if (block) {
      text += line + "\n";
      continue;
    }
    if (!line.empty() && line.back() == '\\') {
      line.pop_back();
      text += line + "\n";
      continue;
    }
    text += line;
    if (text.find_first_not_of(" \t\n") == std::string::npos) {
      text.clear();
      continue;
    }
    return true;
  }
}

void Chat::set_system(const std::string& text) {
  std::vector<ChatMessage> rest;
  for (auto& m : conv_.messages)
    if (m.role != "system") rest.push_back(std::move(m));
  conv_.messages.clear();
  if (!text.empty()) conv_.messages.push_back({"system", text, "", {}});
  for (auto& m : rest) conv_.messages.push_back(std::move(m));
}

bool Chat::command(const std::string& line) {
  const size_t sp = line.find(' ');
  const std::string cmd = line.substr(0, sp);
  std::string arg = sp == std::string::npos ? "" : line.substr(sp + 1);
  while (!arg.empty() && (arg.back() == ' ' || arg.back() == '\n')) arg.pop_back();
  if (cmd == "/exit" || cmd == "/quit") return false;
  if (cmd == "/help") {
    note("/reset  forget the conversation (keeps the system prompt)\n/system TEXT  set the system prompt (/system "
         "alone shows it)\n/save FILE, /load FILE  the conversation as JSON\n/think  show or hide the reasoning\n"
         "/exit  quit (or Ctrl-D)\nEnd a line with \\ to continue it, or put a message between lines of \"\"\".\n"
         "Ctrl-C stops a reply.");
  } else if (cmd == "/reset") {
    std::string system;
    for (auto& m : conv_.messages)
      if (m.role == "system") system = m.content;
    conv_.messages.clear();
    set_system(system);
    note("(conversation reset)");
  } else if (cmd == "/system") {
    if (arg.empty()) {
      std::string system = "(no system prompt)";
      for (auto& m : conv_.messages)
        if (m.role == "system") system = m.content;
      note(system);
    } else {
      set_system(arg);
      note("(system prompt set)");
    }
  } else if (cmd == "/save" || cmd == "/load") {
    if (arg.empty()) {
      note("(" + cmd + " needs a file name)");
    } else if (cmd == "/save") {
      auto r = save_conversation(arg, conv_);
      note(r ? "(saved " + std::to_string(conv_.messages.size()) + " messages to " + arg + ")" : "error: " + r.error().message);
    } else {
      auto c = load_conversation(arg);
      if (c) {
        conv_ = std::move(*c);
        note("(loaded " + std::to_string(conv_.messages.size()) + " messages from " + arg + ")");
      } else {
        note("error: " + c.error().message);
      }
    }
  } else if (cmd == "/think") {
    show_reasoning_ = !show_reasoning_;
    note(show_reasoning_ ? "(reasoning shown)" : "(reasoning hidden)");
  } else {
    note("(unknown command " + cmd + "; /help lists them)");
  }
  return true;
}

// Prints the reply as it comes (reasoning dimmed, when shown); Ctrl-C cancels it. Returns the final event.
Event Chat::stream_reply(const std::shared_ptr<Job>& job, ChatMessage& answer) {
  bool reasoning_open = false, stopped = false;
  Event final;
  for (;;) {
    if (g_interrupted.exchange(false)) {
      eng_.cancel(job);
      stopped = true;
    }
    Event e;
    if (!job->wait(e, std::chrono::milliseconds(50))) continue;
    if (!e.delta.reasoning.empty()) {
      answer.reasoning_content += e.delta.reasoning;
      if (show_reasoning_ && opt_.interactive) {
        if (!reasoning_open) {
          dim(true);
          reasoning_open = true;
        }
        write_text(e.delta.reasoning);
      }
    }
    if (!e.delta.content.empty()) {
      if (reasoning_open) {
        dim(false);
        std::fputs("\n\n", out_);
        reasoning_open = false;
      }
      answer.content += e.delta.content;
      write_text(e.delta.content);
    }
    std::fflush(out_);
    if (e.done) {
      final = std::move(e);
      break;
    }
  }
  if (reasoning_open) dim(false);
  std::fputc('\n', out_);
  if (stopped || final.finish_reason == "cancelled") note("(stopped)");
  return final;
}

void Chat::reply() {
  const int64_t n_ctx = eng_.options().n_ctx;
  const int64_t reserve = opt_.max_reply_tokens > 0 ? std::min(opt_.max_reply_tokens, n_ctx / 2) : std::min<int64_t>(n_ctx / 4, 1024);
  auto fitted = fit_conversation(conv_, tmpl_, eng_.tokenizer(), n_ctx, reserve);
  if (!fitted) {
    conv_.messages.pop_back();  // the message that does not fit
    note("error: " + fitted.error().message);
    if (!opt_.interactive) std::fprintf(stderr, "seek chat: %s\n", fitted.error().message.c_str());
    return;
  }
  if (fitted->dropped) note("(context full: dropped the " + std::to_string(fitted->dropped) + " oldest messages)");
  const int64_t n_prompt = int64_t(fitted->prompt.tokens.size());
  JobSpec spec;
  spec.prompt = std::move(fitted->prompt.tokens);
  spec.gen.opts.sampling = opt_.sampling;
  spec.gen.max_tokens = n_ctx - n_prompt;
  if (opt_.max_reply_tokens > 0) spec.gen.max_tokens = std::min(spec.gen.max_tokens, opt_.max_reply_tokens);
  spec.gen.seed = rng_();
  spec.gen.split_reasoning = true;
  spec.gen.starts_in_reasoning = fitted->prompt.starts_in_reasoning;
  auto job = eng_.submit(std::move(spec));
  if (!job) {
    note("error: the engine is busy");
    return;
  }
  ChatMessage answer{"assistant", "", "", {}};
  const Event final = stream_reply(job, answer);
  if (!show_reasoning_ && !answer.reasoning_content.empty())
    note("(reasoning hidden: " + std::to_string(final.usage.reasoning_tokens) + " tokens; /think shows it)");
  const int64_t used = n_prompt + final.usage.completion_tokens;
  if (final.finish_reason == "length" && used >= n_ctx)
    note("(the context is full: the reply was cut; the oldest turns will be dropped from now on)");
  // Built by appending: GCC 12 warns (-Wrestrict, a known false positive) on "[" + std::to_string(...).
  std::string context = "[";
  context += std::to_string(used) + "/" + std::to_string(n_ctx) + " tokens of context]";
  note(context);
  conv_.messages.push_back(std::move(answer));
}

int Chat::run() {
  set_system(opt_.system);
  if (!opt_.load.empty()) {
    auto c = load_conversation(opt_.load);
    if (!c) {
      std::fprintf(stderr, "seek chat: %s\n", c.error().message.c_str());
      return 1;
    }
    conv_ = std::move(*c);
    if (!opt_.system.empty()) set_system(opt_.system);
  }
  if (!opt_.interactive) {
    // A JSON conversation on the input gets one reply; any other text is read as one message per line.
    const std::string& all = in_.read_all();
    const size_t b = all.find_first_not_of(" \t\r\n");
    if (b != std::string::npos && (all[b] == '{' || all[b] == '[')) {
      auto c = parse_conversation(all);
      if (!c) {
        std::fprintf(stderr, "seek chat: the input looks like JSON but is not a conversation: %s\n",
                     c.error().message.c_str());
        return 1;
      }
      conv_ = std::move(*c);
      if (!opt_.system.empty()) set_system(opt_.system);
      if (conv_.messages.empty() || conv_.messages.back().role != "user") {
        std::fprintf(stderr, "seek chat: the conversation must end with a user message\n");
        return 1;
      }
      reply();
      return 0;
    }
  }
  std::string text;
  while (read_message(text)) {
    if (text[0] == '/' && text.find('\n') == std::string::npos) {
      if (!command(text)) break;
      continue;
    }
    conv_.messages.push_back({"user", text, "", {}});
    reply();
  }
  return 0;
}

}  // namespace

int run_chat(Engine& engine, const ChatTemplate& tmpl, const ChatOptions& opt, int in_fd, std::FILE* out) {
  struct sigaction sa {}, old {};
  if (opt.interactive) {
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a read waiting for input returns EINTR
    sigaction(SIGINT, &sa, &old);
  }
  Chat chat(engine, tmpl, opt, in_fd, out);
  const int code = chat.run();
  if (opt.interactive) sigaction(SIGINT, &old, nullptr);
  return code;
}

}  // namespace seek::server
