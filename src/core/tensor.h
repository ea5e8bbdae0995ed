// Mat: a read-only view of a 2-D weight matrix as stored (any GGUF type), rows x cols with cols contiguous.
// A GGUF tensor with dims {ne0, ne1} is the matrix of ne1 rows of ne0 elements.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace seek {

struct Mat {
  GgmlType type = GgmlType::F32;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_stride = 0;  // bytes from one row to the next
  const uint8_t* data = nullptr;
  // F8_E4M3 only: the 128x128 block scales (weight_scale_inv, row-major, scale_cols per block row) of the whole
  // stored matrix, and the row of that matrix this view starts at (slices keep indexing the same scales).
  const float* scales = nullptr;
  int64_t scale_cols = 0;
  int64_t scale_row0 = 0;

  bool empty() const { return data == nullptr; }
  const uint8_t* row(int64_t r) const { return data + size_t(r) * row_stride; }
  // Rows [r0, r0 + n) as a matrix of their own.
  Mat slice_rows(int64_t r0, int64_t n) const {
    Mat m = *this;
    m.rows = n;
    m.data = row(r0);
    m.scale_row0 += r0;
    return m;
  }
  size_t bytes() const { return size_t(rows) * row_stride; }
  // F8_E4M3: the ceil(cols / 128) scales of row r's block row.
  const float* row_scales(int64_t r) const { return scales + ((scale_row0 + r) / 128) * scale_cols; }
};

}  // namespace seek
