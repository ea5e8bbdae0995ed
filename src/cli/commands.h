// The subcommands of the seek binary. Each takes the arguments after its name and returns the exit code.
#pragma once

namespace seek::cli {

int cmd_run(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_perplexity(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_gen_model(int argc, char** argv);
int cmd_quantize(int argc, char** argv);
int cmd_chat(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_convert(int argc, char** argv);

}  // namespace seek::cli
