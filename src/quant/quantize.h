// Reference quantisers: one row of f32 values to one row of blocks, for every type seek writes. Each follows
// the procedure llama.cpp uses when it quantises a model file without an importance matrix (ggml's
// quantize_row_*_ref, or quantize_iq4_* for the IQ4 types), so the files seek writes hold the same bytes
// llama-quantize would write. n must be a multiple of the type's block size.
#pragma once

#include <cstdint>

#include "quant/types.h"

namespace seek {

using QuantizeRowFn = void (*)(const float* src, uint8_t* dst, int64_t n);

// 32-element blocks (quantize_row_q8_0 is declared in kernels/kernels.h)
void quantize_row_q4_0(const float* src, uint8_t* dst, int64_t n);
void quantize_row_q5_0(const float* src, uint8_t* dst, int64_t n);
void quantize_row_q5_1(const float* src, uint8_t* dst, int64_t n);
void quantize_row_iq4_nl(const float* src, uint8_t* dst, int64_t n);

// 256-element super-blocks
void quantize_row_q2_K(const float* src, uint8_t* dst, int64_t n);
void quantize_row_q3_K(const float* src, uint8_t* dst, int64_t n);
void quantize_row_q4_K(const float* src, uint8_t* dst, int64_t n);
void quantize_row_q5_K(const float* src, uint8_t* dst, int64_t n);
void quantize_row_q6_K(const float* src, uint8_t* dst, int64_t n);
void quantize_row_iq4_xs(const float* src, uint8_t* dst, int64_t n);

// Plain conversions, so that every writable type has an entry.
void quantize_row_f32(const float* src, uint8_t* dst, int64_t n);
void quantize_row_f16(const float* src, uint8_t* dst, int64_t n);
void quantize_row_bf16(const float* src, uint8_t* dst, int64_t n);

// The quantiser of a type, or nullptr where seek cannot write it.
QuantizeRowFn quantizer(GgmlType t);

}  // namespace seek
