// AVX2 + FMA + F16C kernels for CPUs without AVX-512 (compiled with -mavx2 -mfma -mf16c only).
#include "kernels/kernels.h"

namespace seek {

const KernelTable* avx2_kernels() { return nullptr; }  // not yet written: such CPUs run the reference table

}  // namespace seek
