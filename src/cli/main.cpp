// seek: the command-line entry point; dispatches to the subcommands.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "cli/commands.h"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: seek COMMAND [options]\n"
               "\n"
               "commands:\n"
               "  run         generate text from a prompt\n"
               "  chat        interactive chat in the terminal (reads stdin when it is not a terminal)\n"
               "  serve       OpenAI- and DeepSeek-compatible HTTP API with a web chat page\n"
               "  perplexity  perplexity of a text file, as llama-perplexity computes it\n"
               "  bench       prompt-processing and generation speed (tokens/s, GB/s)\n"
               "  info        architecture, hyper-parameters, tensors and cache size of a model\n"
               "  tokenize    token ids of a text\n"
               "  quantize    write a copy of a model with its weights in another type (Q4_K_M, Q8_0, ...)\n"
               "  convert     write a Hugging Face model folder (safetensors, FP8 or BF16) as a GGUF file\n"
               "  gen-model   write a deterministic random-weight test model (GGUF)\n"
               "\n"
               "Run 'seek COMMAND --help' for a command's options.\n");
}

// The command's exit status, or -1 for an unknown command.
int dispatch(const std::string& cmd, int argc, char** argv) {
  if (cmd == "run") return seek::cli::cmd_run(argc - 2, argv + 2);
  if (cmd == "perplexity") return seek::cli::cmd_perplexity(argc - 2, argv + 2);
  if (cmd == "info") return seek::cli::cmd_info(argc - 2, argv + 2);
  if (cmd == "tokenize") return seek::cli::cmd_tokenize(argc - 2, argv + 2);
  if (cmd == "bench") return seek::cli::cmd_bench(argc - 2, argv + 2);
  if (cmd == "gen-model") return seek::cli::cmd_gen_model(argc - 2, argv + 2);
  if (cmd == "convert") return seek::cli::cmd_convert(argc - 2, argv + 2);
  if (cmd == "quantize") return seek::cli::cmd_quantize(argc - 2, argv + 2);
  if (cmd == "chat") return seek::cli::cmd_chat(argc - 2, argv + 2);
  if (cmd == "serve") return seek::cli::cmd_serve(argc - 2, argv + 2);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  // A forward pass allocates its activations per layer (megabytes for a long prompt). Kept on the heap and not
  // handed back between steps, the same pages serve every step; glibc's defaults map the larger ones afresh and
  // fault in zeroed pages each time (3-7% of a 512-token prefill on the development VM).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  try {
    if (const int rc = dispatch(cmd, argc, argv); rc >= 0) return rc;
  } catch (const std::bad_alloc&) {
    // What the up-front checks (weights, KV caches) did not foresee: one line, and out at once (_Exit: a server's
    // threads are still running and must not be joined or destroyed from here).
    std::fprintf(stderr, "seek %s: out of memory\n", cmd.c_str());
    std::fflush(stderr);
    std::_Exit(1);
  }
  std::fprintf(stderr, "seek: unknown command '%s' (run 'seek --help' for the list)\n", cmd.c_str());
  return 2;
}
