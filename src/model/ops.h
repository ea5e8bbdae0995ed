// Named operations a forward pass is written in: matmul over stored weights, RMSNorm, SwiGLU, softmax.
// Parallel ops take the thread pool and split rows; *_serial ops run on the calling thread (for use inside a
// region that is already parallel, e.g. one attention head per thread).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/tensor.h"
#include "core/thread_pool.h"
#include "quant/blocks.h"

namespace seek {

// y[t][r] = dot(w.row(r), x[t]) for t < n_tok; x rows are w.cols long (stride ldx), y rows w.rows (stride ldy).
void matmul(ThreadPool& pool, const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy);
inline void matmul(ThreadPool& pool, const Mat& w, const float* x, int64_t n_tok, float* y) {
  matmul(pool, w, x, w.cols, n_tok, y, w.rows);
}
// Activations quantised to q8_0 once, with what the integer GEMM needs per block (the scale as f32, the sum of the
// quants), for several products of the same input: an MLP's gate and up projections, q_a and kv_a, every expert a
// token is routed to. A product gets exactly the bits it gets quantising the input itself.
struct Q8Batch {
  std::vector<BlockQ8_0> q;  // n_tok rows of K / 32 blocks
  std::vector<float> d;
  std::vector<int32_t> off;  // per block, -128 x the sum of its quants (kernels.h: gemm_q8_0_panel's xoff)
  int64_t n_tok = 0, K = 0;
};
// Whether products of w take a Q8Batch: w is held as Q8_0 panels (model/repack.h).
inline bool takes_q8_batch(const Mat& w) { return w.panels(); }
// Quantises n_tok rows of x (K wide, ldx apart; K a multiple of 32), split by tokens across `pool` when it is given
// and the batch is large enough to repay it.
void quantize_batch(ThreadPool* pool, const float* x, int64_t ldx, int64_t n_tok, int64_t K, Q8Batch& out);
// dst = rows rows[0..n) of src.
void gather_batch(const Q8Batch& src, const int64_t* rows, int64_t n, Q8Batch& dst);
// y = w x for a quantised batch; w must take it (takes_q8_batch) and be x.K wide.
void matmul(ThreadPool& pool, const Mat& w, const Q8Batch& x, float* y, int64_t ldy);
void matmul_serial(const Mat& w, const Q8Batch& x, float* y, int64_t ldy);

// Serial forms (scratch space is per thread, inside).
void matmul_serial(const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy);
// y[t][c] = sum_r w[r][c] * x[t][r]: the transpose of w applied, without materialising it.
void matmul_t_serial(const Mat& w, const float* x, int64_t ldx, int64_t n_tok, float* y, int64_t ldy);

// out = x / sqrt(mean(x^2) + eps) * weight (the mean accumulated in double, as ggml does).
void rmsnorm(const float* x, const float* weight, int64_t n, float eps, float* out);
// rmsnorm of n_rows rows (x rows ldx apart, out rows ldo apart; in place allowed), split across the pool's threads.
void rmsnorm_rows(ThreadPool* pool, const float* x, int64_t ldx, const float* weight, int64_t n_rows, int64_t n,
                  float eps, float* out, int64_t ldo);
// fn(begin, end) over rows [0, n) split across the pool's threads, or once on this thread when there is no pool or
// n * work_per_row (a rough count of operations) is too small to repay waking the workers.
void parallel_rows(ThreadPool* pool, int64_t n, int64_t work_per_row, const std::function<void(int64_t, int64_t)>& fn);
constexpr int64_t kParallelRowsWork = int64_t(1) << 15;
// a[i] = silu(a[i]) * b[i]
void swiglu(float* a, const float* b, int64_t n);
// In-place softmax over n values.
void softmax(float* x, int64_t n);
// Row r of a weight matrix (an embedding, a projection) as f32; a matrix held as panels unpacks it.
void row_f32(const Mat& w, int64_t r, float* out);
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
