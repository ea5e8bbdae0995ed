// The one table of row quantisers, by type.
#include "kernels/kernels.h"
#include "quant/quantize.h"

namespace seek {

QuantizeRowFn quantizer(GgmlType t) {
  switch (t) {
    case GgmlType::F32: return quantize_row_f32;
    case GgmlType::F16: return quantize_row_f16;
    case GgmlType::BF16: return quantize_row_bf16;
    case GgmlType::Q8_0: return quantize_row_q8_0;
    case GgmlType::Q4_0: return quantize_row_q4_0;
    case GgmlType::Q5_0: return quantize_row_q5_0;
    case GgmlType::Q5_1: return quantize_row_q5_1;
    case GgmlType::IQ4_NL: return quantize_row_iq4_nl;
    case GgmlType::Q2_K: return quantize_row_q2_K;
    case GgmlType::Q3_K: return quantize_row_q3_K;
    case GgmlType::Q4_K: return quantize_row_q4_K;
    case GgmlType::Q5_K: return quantize_row_q5_K;
    case GgmlType::Q6_K: return quantize_row_q6_K;
    case GgmlType::IQ4_XS: return quantize_row_iq4_xs;
    default: return nullptr;
  }
}

}  // namespace seek
