// Named operations a forward pass is written in: matmul over stored weights, RMSNorm, SwiGLU, softmax.
// Parallel ops take the thread pool and split rows; *_serial ops run on the calling thread (for use inside a
// region that is already parallel, e.g. one attention head per thread).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "core/thread_pool.h"

namespace seek {

// y[t][r] = dot(w.row(r), x[t]) for t < n_tok; x rows are w.cols long (stride ldx), y rows w.rows (stride ldy).
void matmul(ThreadPool& pool, const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy);
inline void matmul(ThreadPool& pool, const Mat& w, const float* x, int64_t n_tok, float* y) {
  matmul(pool, w, x, w.cols, n_tok, y, w.rows);
}
// Serial forms (scratch space is per thread, inside).
void matmul_serial(const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy);
// y[t][c] = sum_r w[r][c] * x[t][r]: the transpose of w applied, without materialising it.
void matmul_t_serial(const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy);

// out = x / sqrt(mean(x^2) + eps) * weight (the mean accumulated in double, as ggml does).
void rmsnorm(const float* x, const float* weight, int64_t n, float eps, float* out);
// a[i] = silu(a[i]) * b[i]
void swiglu(float* a, const float* b, int64_t n);
// In-place softmax over n values.
void softmax(float* x, int64_t n);
// Row `id` of an embedding matrix as f32.
void embedding_row(const Mat& emb, int64_t id, float* out);
// One query's attention over n_rows cached rows (`stride` floats apart): scores[s] = scale * (q . rows[s][0..n)),
// softmax over them, then ctx[0..n_ctx) = sum_s scores[s] rows[s][0..n_ctx).
void attend_rows(const float* q, const float* rows, int64_t stride, int64_t n_rows, int64_t n, int64_t n_ctx,
                 float scale, float* scores, float* ctx);
// attend_rows for n_q queries sharing the rows (query i at q + i * ldq; its n_rows scores at scores + i * n_rows,
// its context at ctx + i * ldc): each row is read once per block of queries, and each query's result has the bits
// attend_rows gives it.
void attend_rows_n(const float* q, int64_t ldq, int64_t n_q, const float* rows, int64_t stride, int64_t n_rows,
                   int64_t n, int64_t n_ctx, float scale, float* scores, float* ctx, int64_t ldc);

}  // namespace seek

namespace seek {
// f32 vector helpers through the selected kernels.
float vec_dot(const float* a, const float* b, int64_t n);
void vec_axpy(float a, const float* x, float* y, int64_t n);  // y += a * x
}  // namespace seek
