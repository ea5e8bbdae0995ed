// Implementation of the named ops through the selected kernel table.
#include "model/ops.h"

#include <cmath>
#include <vector>

#include "kernels/kernels.h"

namespace seek {

void matmul_serial(const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy, float* scratch) {
  const KernelTable& k = kernels();
  const TypeKernels& tk = k.of(w.type);
  if (n_tok == 1) {
    for (int64_t r = 0; r < w.rows; ++r) y[r] = tk.dot(w.row(r), x, w.cols);
    return;
  }
  for (int64_t r = 0; r < w.rows; ++r) {
    const float* row = reinterpret_cast<const float*>(w.row(r));
    if (w.type != GgmlType::F32) {
      tk.dequant(w.row(r), scratch, w.cols);
      row = scratch;
    }
    for (int64_t t = 0; t < n_tok; ++t) y[t * ldy + r] = k.dot_f32(row, x + t * ldx, w.cols);
  }
}

void matmul_t_serial(const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy, float* scratch) {
  const KernelTable& k = kernels();
  for (int64_t t = 0; t < n_tok; ++t)
    for (int64_t c = 0; c < w.cols; ++c) y[t * ldy + c] = 0.0f;
  for (int64_t r = 0; r < w.rows; ++r) {
    const float* row = reinterpret_cast<const float*>(w.row(r));
    if (w.type != GgmlType::F32) {
      k.of(w.type).dequant(w.row(r), scratch, w.cols);
      row = scratch;
    }
    for (int64_t t = 0; t < n_tok; ++t) k.axpy(x[t * ldx + r], row, y + t * ldy, w.cols);
  }
}

void matmul(ThreadPool& pool, const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy) {
  // Below ~64k multiply-adds a parallel region costs more than it saves.
  if (w.rows * w.cols * n_tok < (int64_t(1) << 16)) {
    thread_local std::vector<float> scratch;
    if (n_tok > 1 && int64_t(scratch.size()) < w.cols) scratch.resize(size_t(w.cols));
    matmul_serial(w, x, ldx, n_tok, y, ldy, scratch.data());
    return;
  }
  pool.run([&](int ti, int nt) {
    int64_t r0, r1;
    ThreadPool::split(w.rows, ti, nt, 16, &r0, &r1);
    if (r0 >= r1) return;
    thread_local std::vector<float> scratch;
    if (n_tok > 1 && int64_t(scratch.size()) < w.cols) scratch.resize(size_t(w.cols));
    matmul_serial(w.slice_rows(r0, r1 - r0), x, ldx, n_tok, y + r0, ldy, scratch.data());
  });
}

void rmsnorm(const float* x, const float* weight, int64_t n, float eps, float* out) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(x[i]) * double(x[i]);
  const float scale = 1.0f / std::sqrt(float(sum / double(n)) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void swiglu(float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) a[i] = a[i] / (1.0f + std::exp(-a[i])) * b[i];
}

void softmax(float* x, int64_t n) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::fmax(mx, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void embedding_row(const Mat& emb, int64_t id, float* out) { kernels().of(emb.type).dequant(emb.row(id), out, emb.cols); }

}  // namespace seek

namespace seek {
float vec_dot(const float* a, const float* b, int64_t n) { return kernels().dot_f32(a, b, n); }
void vec_axpy(float a, const float* x, float* y, int64_t n) { kernels().axpy(a, x, y, n); }
}  // namespace seek
