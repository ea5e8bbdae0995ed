// Mat: a read-only view of a 2-D weight matrix as stored (any GGUF type), rows x cols with cols contiguous.
// A GGUF tensor with dims {ne0, ne1} is the matrix of ne1 rows of ne0 elements.
// A Q8_0 matrix may instead be held repacked for the integer GEMM (MatLayout::Q8Panels, see model/repack.h):
// panels of kGemmPanelRows rows in the kernels' packed form (kernels.h: pack_q8_0_panel), the same bytes per row;
// such a view has no addressable rows: matmul reads its panels, and the few ops that need a row as f32 (a transposed
// product, the expanded attention's W_uk) unpack it (kernels.h: q8_0_panel_row).
#pragma once

#include <cstddef>
#include <cstdint>

#include "quant/types.h"

namespace seek {

enum class MatLayout : uint8_t { Rows, Q8Panels };

inline constexpr int64_t kPanelRows = 32;  // rows per Q8Panels panel (= kernels.h kGemmPanelRows)

struct Mat {
  GgmlType type = GgmlType::F32;
  MatLayout layout = MatLayout::Rows;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_stride = 0;  // bytes from one row to the next (Q8Panels: bytes of a row in a panel)
  const uint8_t* data = nullptr;
  // F8_E4M3 only: the 128x128 block scales (weight_scale_inv, row-major, scale_cols per block row) of the whole
  // stored matrix, and the row of that matrix this view starts at (slices keep indexing the same scales).
  const float* scales = nullptr;
  int64_t scale_cols = 0;
  int64_t scale_row0 = 0;

  bool empty() const { return data == nullptr; }
  bool panels() const { return layout == MatLayout::Q8Panels; }
  const uint8_t* row(int64_t r) const { return data + size_t(r) * row_stride; }
  // Panel p (rows [32p, 32p + 32)) of a Q8Panels matrix.
  const uint8_t* panel(int64_t p) const { return data + size_t(p) * size_t(kPanelRows) * row_stride; }
  // Rows [r0, r0 + n) as a matrix of their own (Q8Panels: r0 a multiple of kPanelRows).
  Mat slice_rows(int64_t r0, int64_t n) const {
    Mat m = *this;
    m.rows = n;
    m.data = row(r0);
    m.scale_row0 += r0;
    return m;
  }
  // Q8Panels: a last partial panel takes a whole panel's bytes.
  size_t bytes() const {
    return size_t(panels() ? (rows + kPanelRows - 1) / kPanelRows * kPanelRows : rows) * row_stride;
  }
  // F8_E4M3: the ceil(cols / 128) scales of row r's block row.
  const float* row_scales(int64_t r) const { return scales + ((scale_row0 + r) / 128) * scale_cols; }
};

// A view of rows x cols f32 values stored row after row at data (which must outlive it).
inline Mat f32_rows(const float* data, int64_t rows, int64_t cols) {
  Mat m;
  m.type = GgmlType::F32;
  m.rows = rows;
  m.cols = cols;
  m.row_stride = size_t(cols) * sizeof(float);
  m.data = reinterpret_cast<const uint8_t*>(data);
  return m;
}

}  // namespace seek
