// Chooses the kernel table once at start-up from the CPU's features.
#include <cpuid.h>

#include <atomic>

#include "kernels/kernels.h"

namespace seek {

namespace {
std::atomic<const KernelTable*> g_table{nullptr};
std::atomic<bool> g_quantized_activations{true};
}

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}

const char* select_kernels(KernelChoice choice) {
  const KernelTable* t = &ref_kernels();
  switch (choice) {
    case KernelChoice::Ref: break;
    case KernelChoice::Avx512: t = cpu_has_avx512() ? avx512_kernels() : nullptr; break;
    case KernelChoice::Avx2: t = cpu_has_avx2() ? avx2_kernels() : nullptr; break;
    case KernelChoice::Auto:
      if (cpu_has_avx512() && avx512_kernels()) t = avx512_kernels();
      else if (cpu_has_avx2() && avx2_kernels()) t = avx2_kernels();
      break;
  }
  if (!t) return nullptr;
  g_table.store(t);
  return t->name;
}

void set_quantized_activations(bool on) { g_quantized_activations.store(on); }
bool quantized_activations() { return g_quantized_activations.load(std::memory_order_relaxed); }

const KernelTable& kernels() {
  const KernelTable* t = g_table.load(std::memory_order_relaxed);
  if (!t) {
    select_kernels(KernelChoice::Auto);
    t = g_table.load();
  }
  return *t;
}

}  // namespace seek
