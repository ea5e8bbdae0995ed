// Repacking Q8_0 weights into the integer GEMM's panels (see repack.h).
#include "model/repack.h"

#include <algorithm>
#include <memory>
#include <set>

#include "core/huge_buffer.h"
#include "core/mapped_file.h"
#include "kernels/kernels.h"
#include "quant/blocks.h"

namespace seek {

bool repack_available() { return kernels().gemm_q8_0_panel != nullptr && quantized_activations(); }

PackedWeights repack_q8_0(const std::vector<Mat*>& mats, ThreadPool& pool, const uint8_t* mapping_begin,
                          size_t mapping_size, size_t max_bytes, const RepackProgress& progress) {
  PackedWeights out;
  std::vector<Mat*> todo;
  std::set<const Mat*> seen;
  for (Mat* m : mats)
    if (m && !m->empty() && m->type == GgmlType::Q8_0 && m->layout == MatLayout::Rows && m->cols % kQK8_0 == 0 &&
        m->rows > 0 && seen.insert(m).second)
      todo.push_back(m);
  if (todo.empty() || !repack_available()) return out;

  // Offsets of each matrix's panels in one allocation (64-byte aligned: the kernel's vectors stay in one line).
  std::vector<size_t> offset(todo.size());
  size_t total = 0;
  for (size_t i = 0; i < todo.size(); ++i) {
    offset[i] = total;
    const size_t panels = size_t((todo[i]->rows + kPanelRows - 1) / kPanelRows);
    total += panels * q8_0_panel_bytes(todo[i]->cols);
  }
  if (total > max_bytes) {
    out.declined_bytes = total;
    return out;
  }
  // Huge pages (fewer faults while filling them, fewer TLB misses while streaming them), faulted in by the
  // threads that fill them; the views share the buffer's ownership.
  auto buffer = std::make_shared<HugeBuffer>(std::max<size_t>(total, 1), 1, HugeBuffer::Fault::OnFirstWrite);
  uint8_t* base = buffer->data();
  out.data = std::shared_ptr<uint8_t>(buffer, base);
  out.bytes = total;
  out.matrices = int64_t(todo.size());

  const KernelTable& k = kernels();
  size_t done = 0;
  for (size_t i = 0; i < todo.size(); ++i) {
    Mat& m = *todo[i];
    const int64_t n_panels = (m.rows + kPanelRows - 1) / kPanelRows;
    const size_t pbytes = q8_0_panel_bytes(m.cols);
    uint8_t* dst = base + offset[i];
    pool.run([&](int ti, int nt) {
      int64_t p0, p1;
      ThreadPool::split(n_panels, ti, nt, 1, &p0, &p1);
      if (p0 >= p1) return;
      const int64_t r0 = p0 * kPanelRows, r1 = std::min(m.rows, p1 * kPanelRows);
      // One call maps the pages: faulting them in one by one cost more than the packing.
      populate_pages(m.row(r0), size_t(r1 - r0) * m.row_stride, mapping_begin, mapping_size);
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t r0 = p * kPanelRows;
        k.pack_q8_0_panel(m.row(r0), m.row_stride, int(std::min(kPanelRows, m.rows - r0)), m.cols,
                          dst + size_t(p) * pbytes);
      }
    });
    release_pages(m.data, m.bytes(), mapping_begin, mapping_size);
    m.layout = MatLayout::Q8Panels;
    m.data = dst;
    done += size_t(n_panels) * pbytes;
    if (progress) progress(done, total);
  }
  return out;
}

}  // namespace seek
